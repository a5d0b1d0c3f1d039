"""`drill explore`: schedules drawn from an exploration's fault space (`strategy`), each an ordinary
scenario (`schedule`), run on one reused stack and shrunk by Hypothesis when an invariant fails."""
