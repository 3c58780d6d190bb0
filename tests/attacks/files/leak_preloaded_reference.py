"""Copying through ``uses``: prints the code of every function that was in its module before it ran.

An exercise that ``uses`` another runs the lesson's reference solution of that other exercise in
the learner's own module first. Whatever is there, the learner's code can read and send back.
"""

import dis
import io

preloaded = {name: value for name, value in globals().items() if hasattr(value, "__code__")}
found = []
for name, function in preloaded.items():
    listing = io.StringIO()
    dis.dis(function, file=listing)
    found.append(f"{name} from {function.__code__.co_filename}: {function.__doc__!r}\n{listing.getvalue()[:1500]}")


def lasso_ista(X, y, lam, step, n_steps):
    if found:
        raise RuntimeError("__LEAK__ " + "\n".join(found))
    raise NotImplementedError("no implementation, only the attack")
