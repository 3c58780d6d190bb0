from quizkit.console import run

run()
