from quizkit.cli import run

run()
