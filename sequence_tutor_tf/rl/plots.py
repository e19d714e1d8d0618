"""Reward, evaluation and target-value plots (the original's three figures), as image files.

Uses the Agg backend when saving so that a headless run never blocks on a window; with no file
name the figure is shown, as the original does in notebooks.
"""
import os

import numpy as np


def _plt(show):
    import matplotlib
    if not show:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _finish(plt, fig, path):
    if path is None:
        plt.show()
    else:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path)
        plt.close(fig)


TASK_AND_PRIOR = ("Task", "Prior log p")


def plot_rewards(engine, path=None, labels=TASK_AND_PRIOR):
    """Rewards summed over each output_every_nth steps: total, task, prior."""
    plt = _plt(path is None)
    x = engine.output_every_nth * np.arange(len(engine.rewards_batched))
    fig = plt.figure()
    plt.plot(x, engine.rewards_batched)
    plt.plot(x, engine.task_rewards_batched)
    plt.plot(x, engine.prior_rewards_batched)
    plt.xlabel("Training epoch")
    plt.ylabel(f"Cumulative reward for last {engine.output_every_nth} steps")
    plt.legend(["Total", *labels], loc="best")
    _finish(plt, fig, path)


def plot_evaluation(engine, path=None, start_at_epoch=0, labels=TASK_AND_PRIOR):
    plt = _plt(path is None)
    x = engine.output_every_nth * np.arange(len(engine.eval_avg_reward))
    start = int(start_at_epoch // engine.output_every_nth)   # the original divides with `/`
    fig = plt.figure()
    plt.plot(x[start:], engine.eval_avg_reward[start:])
    plt.plot(x[start:], engine.eval_avg_task_reward[start:])
    plt.plot(x[start:], engine.eval_avg_prior_reward[start:])
    plt.xlabel("Training epoch")
    plt.ylabel("Average reward")
    plt.legend(["Total", *labels], loc="best")
    _finish(plt, fig, path)


def plot_target_vals(engine, path=None):
    plt = _plt(path is None)
    x = engine.output_every_nth * np.arange(len(engine.target_val_list))
    fig = plt.figure()
    plt.plot(x, engine.target_val_list)
    plt.xlabel("Training epoch")
    plt.ylabel("Target value")
    _finish(plt, fig, path)
