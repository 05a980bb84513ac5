"""Where Gradio's defaults fall short of WCAG AA (axe-core's serious findings): colours and names.

`CSS` darkens text and buttons that fall below 4.5:1 contrast on white (the upload zones'
"- or -", the footer links, the primary and stop buttons), shows a turn's images as thumbnails,
and lays the answers out for a phone.
`JS` runs once per page: it gives the upload zones an accessible name that contains their
visible text, an allowed role to the empty placeholders that carry an aria-label, names each
answer log after its model, and makes a button inside another control inert (the arrow in a
thinking block's title) or, for a file box's "upload more" button, the inner one disabled and the
outer one named and opening the file picker; it names a turn's thumbnails after their files;
again whenever Gradio redraws them. On a phone it folds the model
pickers and the attachments once, under their titles. It also keeps a model
picker reached with Tab from opening (and selecting its text) until the visitor asks.
"""

from __future__ import annotations

CSS = """
[data-testid="upload-text"] .or, .show-api, .settings, footer a, footer button, footer span,
.min_value, .max_value { color: #5c5c66 !important; }
button.primary, button.primary:hover { background: #b93d0b !important; border-color: #b93d0b !important; color: #fff !important; }
#stop, #stop:hover, #eval-cancel, #eval-cancel:hover {
  background: #b91c1c !important; border-color: #b91c1c !important; color: #fff !important;
}
#stop:disabled { background: #6b6b73 !important; border-color: #6b6b73 !important; }
/* The audio player's times and speed, light grey in Gradio's theme. */
time#time, time#duration, .playback > span { color: #5c5c66 !important; }
/* Each model's column header in the colour of its marks in the charts (ui.charts.COLOURS). */
#gemma-status { border-left: 6px solid #1a5fb4; padding-left: 8px; }
#qwen-status { border-left: 6px solid #813d9c; padding-left: 8px; }
/* A turn's images as thumbnails in the answer columns (the full size is a click away). */
#gemma-chat .image-frame img, #qwen-chat .image-frame img { max-height: 120px !important; width: auto !important; }
/* On a phone the two answers (Compare's and the Arena's) sit side by side in a strip that snaps:
   one swipe apart, the other column's edge always in view, the vote buttons right under them;
   the examples scroll instead of being clipped. */
@media (max-width: 640px) {
  #composer { order: -2; } #input-error, #examples { order: -1; }  /* the prompt, Compare and the examples above the model pickers */
  #answers, #arena-answers { flex-wrap: nowrap !important; overflow-x: auto; scroll-snap-type: x mandatory; gap: 8px; }
  #answers > .column, #arena-answers > .column { min-width: 86vw !important; scroll-snap-align: start; }
  #examples { overflow-x: auto; max-width: 100%; }
}
"""

JS = """
() => {
  const FOLDED_ON_A_PHONE = ['#models', '#attach', '#arena-attach']
    .map((id) => `${id} > button.label-wrap.open:not([data-folded])`).join(', ');
  // A visitor's own click or key on the title (a trusted event) ends the folding at once: a retry
  // still pending must not shut what the visitor just opened.
  const fold = (el, tries) => {
    if (!el.dataset.folding) {
      el.dataset.folding = '1';
      el.addEventListener('click', (e) => { if (e.isTrusted) el.dataset.folded = '1'; }, true);
    }
    if (el.dataset.folded) return;
    if (!el.classList.contains('open')) { el.dataset.folded = '1'; return; }
    if (tries > 0) { el.click(); setTimeout(() => fold(el, tries - 1), 250); }
  };
  let queued = false;
  const fix = () => {
    queued = false;
    document.querySelectorAll('button[aria-label="Click to upload or drop files"], [aria-dropeffect="copy"]').forEach((el) => {
      const text = el.innerText.replace(/\\s+/g, ' ').trim();
      if (text && el.getAttribute('aria-label') !== text) el.setAttribute('aria-label', text);
    });
    document.querySelectorAll('div.empty[aria-label]:not([role])').forEach((el) => el.setAttribute('role', 'img'));
    // The audio player's speed button: its name begins with what it shows ("1x, adjust ...").
    document.querySelectorAll('button.playback[aria-label]').forEach((el) => {
      const text = el.innerText.trim(), label = el.getAttribute('aria-label');
      if (text && !label.startsWith(text)) el.setAttribute('aria-label', `${text}, ${label.replace(/^.*?, /, '')}`);
    });
    // Each answer log is named after its model (Gradio names every one "chatbot conversation").
    document.querySelectorAll('[role="log"][aria-label="chatbot conversation"]').forEach((el) => {
      const label = el.closest('.block')?.querySelector('[data-testid="block-label"]')?.innerText.trim();
      if (label) el.setAttribute('aria-label', label);
    });
    // A control inside a control (a thinking block's arrow in its title, an upload button in its
    // zone): the outer one does the job, so the inner one is made inert (clicks reach the outer).
    document.querySelectorAll('[role="button"] button:not([inert])').forEach((el) => el.setAttribute('inert', ''));
    // A file box holding files has an "upload more" button named by an untranslated key, wrapping
    // a second upload button (a control in a control): the outer one becomes the one control,
    // named, and opens the file picker; the inner one is disabled and lets clicks through.
    document.querySelectorAll('button[aria-label="common.upload"], button[data-opens]').forEach((outer) => {
      outer.setAttribute('aria-label', 'Add more files');
      outer.title = 'Add more files';
      const inner = outer.querySelector('button.upload-container');  // Gradio may draw it anew
      if (inner && !inner.disabled) { inner.disabled = true; inner.style.pointerEvents = 'none'; }
      if (outer.dataset.opens) return;
      outer.dataset.opens = 'picker';
      outer.addEventListener('click', (e) => {
        if (!e.target.closest('input')) outer.querySelector('input[type=file]')?.click();
      });
    });
    // A turn's thumbnail in an answer column is named by its file name (Gradio leaves it empty).
    document.querySelectorAll('[role="log"] .image-frame img[alt=""]').forEach((img) => {
      img.alt = decodeURIComponent(new URL(img.src).pathname.split('/').pop());
    });
    // On a phone the attachments and the model pickers start folded under their titles, so the
    // answers are near the composer; each folds once, and a tap on its title opens it.
    if (matchMedia('(max-width: 640px)').matches) {
      // (each once it is shown and stays shut: a tab's first showing can redraw it open)
      document.querySelectorAll(FOLDED_ON_A_PHONE).forEach((el) => {
        if (el.offsetParent !== null && !el.dataset.folding) fold(el, 8);
      });
    }
  };
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(fix); } })
    .observe(document.body, { subtree: true, childList: true });
  fix();
  // A dropdown (a model picker) reached with Tab stays closed until the arrow keys or typing
  // open it: the focus event is stopped before it reaches the dropdown, unless a pointer chose it.
  // Tab itself is kept from it too (it would open the list it is leaving); focus still moves.
  let pointed = 0;
  const picker = (t) => t instanceof HTMLInputElement && t.getAttribute('role') === 'combobox' && t.closest('.wrap-inner');
  window.addEventListener('pointerdown', () => { pointed = performance.now(); }, true);
  window.addEventListener('focus', (e) => {
    if (picker(e.target) && performance.now() - pointed > 500) e.stopPropagation();
  }, true);
  window.addEventListener('keydown', (e) => { if (e.key === 'Tab' && picker(e.target)) e.stopPropagation(); }, true);
}
"""
