"""Runs inside the sandbox as /camp/main.py: images in, predictions out. Never imports grader.

    main.py IMAGES.npy PREDICTIONS.npy

Loads the images, imports the student's `predict.py` from the working directory, calls
`predict(images)` and saves what it returns with `numpy.save`. It never sees a label, and what
the program prints cannot change a score: the grader reads only the predictions file and checks
it outside the sandbox.
"""

import importlib
import sys

import numpy as np


def main() -> None:
    images_path, out_path = sys.argv[1], sys.argv[2]
    images = np.load(images_path, allow_pickle=False)
    module = importlib.import_module("predict")
    predict = getattr(module, "predict", None)
    if not callable(predict):
        sys.exit("predict.py does not define a function predict(images)")
    result = predict(images)
    try:
        labels = np.asarray(result)
        if labels.dtype == object:
            raise TypeError("mixed or non-numeric values")
    except Exception as exc:  # the file stays empty: the grader says "bad output"
        print(f"predict() returned {type(result).__name__}, not numbers: {exc}", file=sys.stderr)
        return
    with open(out_path, "wb") as out:
        np.save(out, labels, allow_pickle=False)


if __name__ == "__main__":
    main()
