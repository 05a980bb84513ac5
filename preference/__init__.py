"""Preference, as the arena measures it: blind comparisons, votes that last, and a leaderboard
with honest error bars. (The votes themselves live in the operator's --arena folder, arena/ by default.)

    blind        Model A / Model B: the random assignment, what may be shown before the vote, the reveal
    votes        one durable line per vote (ARENA_DIR/votes.jsonl), read back for counting
    ratings      Bradley–Terry ratings with bootstrap intervals
    leaderboard  every figure from the votes, as JSON, Markdown or a self-contained HTML page

The app's Arena and Leaderboard tabs (ui.arena) and `python app.py leaderboard` use these.
"""
