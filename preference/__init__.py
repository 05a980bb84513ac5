"""Preference, as the arena measures it: blind comparisons, votes that last, and a leaderboard
with honest error bars. (The votes themselves live in the operator's --arena folder, arena/ by default.)

    blind        Model A / Model B: the random draws, what may be shown before the vote, the reveal
    policy       what a vote must meet (answer length, reading time, votes per visitor)
    votes        one durable line per vote (ARENA_DIR/votes.jsonl), refusals too, read back for counting
    ratings      Bradley–Terry ratings with intervals that hold at small n, plain and style-controlled
    leaderboard  every figure from the votes, as JSON, Markdown or a self-contained HTML page

The app's Arena and Leaderboard tabs (ui.arena) and `python app.py leaderboard` use these.
"""
