"""Safety for people at risk: the rules of `content/safety.yaml` (loaded and checked in
`rules`) and the pure detection of a cry for help in free text (`distress`). No Telegram, no
database; the only I/O is reading the file in `rules.load_safety`."""
