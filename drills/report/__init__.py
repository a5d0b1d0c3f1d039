"""What a drill leaves behind in `reports/<run-id>/`: journal.json, history.jsonl, junit.xml."""
