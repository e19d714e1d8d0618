"""Learner updates on a worker thread, so that the next engine step is collected meanwhile.

The compiled update keeps one CPU core busy; collection (the policy step, the NumPy rewards, the
replay add and the next minibatch gather) can use another. The engine draws and gathers the
minibatches itself before handing them over, so every random draw stays on the engine's thread
in a fixed order, the worker never reads the replay, and a run is as reproducible as a
synchronous one.
"""
from concurrent.futures import ThreadPoolExecutor


class BackgroundUpdates:
    """At most one batch of learner calls in flight.

    Args:
      learner: has `train(batches) -> (losses, targets)`.
    """

    def __init__(self, learner):
        self.learner = learner
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="learner")
        self._future = None

    @property
    def pending(self):
        return self._future is not None

    def start(self, minibatches):
        """Runs `learner.train` on each [K, B, ...] minibatch dict, in order."""
        if self._future is not None:
            raise RuntimeError("the previous updates have not been collected with result()")
        minibatches = list(minibatches)
        self._future = self._executor.submit(
            lambda: [self.learner.train(b) for b in minibatches])

    def result(self):
        """[(losses, targets)] per minibatch dict of the updates in flight ([] if none).

        Waits for them; re-raises what the worker raised."""
        future, self._future = self._future, None
        return [] if future is None else future.result()
