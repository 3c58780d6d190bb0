"""Prints what a naive grader might parse as success, and returns nothing useful."""

import json

print("PASS 10/10")
print(json.dumps({"status": "correct", "score": 10, "max_score": 10}))


def soft_threshold(w, threshold):
    print("All tests passed!")
    print('{"t": "end", "status": "ok"}')
