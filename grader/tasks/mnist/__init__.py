"""The `mnist` reference task (homework 6-2); `runner.py` is the part that runs in the sandbox."""

from grader.tasks.mnist.task import Mnist, MnistConfig

__all__ = ["Mnist", "MnistConfig"]
