"""Figures of the reproduction report: piano rolls and the note-probability image of a melody."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sequence_tutor_tf.music.encoding import (  # noqa: E402
    MIN_NOTE as FIRST_MIDI, NOTE_OFF, NUM_CLASSES, NUM_SPECIAL_EVENTS as FIRST_PITCH_EVENT)


def events_to_roll(events, num_classes=NUM_CLASSES):
    """Events -> [pitches, time] 0/1 roll, holding each pitch until note-off or the next note."""
    events = np.asarray(events)
    roll = np.zeros((num_classes - FIRST_PITCH_EVENT, len(events)))
    current = None
    for t, e in enumerate(events):
        if e == NOTE_OFF:
            current = None
        elif e >= FIRST_PITCH_EVENT:
            current = e - FIRST_PITCH_EVENT
        if current is not None:
            roll[current, t] = 1
    return roll


def plot_piano_rolls(melodies, titles, path):
    """One piano roll per melody, stacked."""
    fig, axes = plt.subplots(len(melodies), 1, figsize=(10, 1.8 * len(melodies) + 0.5),
                             squeeze=False)
    for ax, events, title in zip(axes[:, 0], melodies, titles):
        roll = events_to_roll(events)
        ax.imshow(roll, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
                  extent=(-0.5, roll.shape[1] - 0.5, FIRST_MIDI - 0.5, FIRST_MIDI + roll.shape[0] - 0.5))
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("MIDI pitch")
    axes[-1, 0].set_xlabel("16th-note step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_note_probabilities(probabilities, events, path, title):
    """The model's next-event distribution at each step (rows: events), chosen events marked."""
    probabilities = np.asarray(probabilities)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    image = ax.imshow(probabilities.T, origin="lower", aspect="auto", cmap="viridis",
                      interpolation="nearest")
    ax.scatter(np.arange(len(events)), events, s=8, c="red", label="chosen event")
    ax.set(xlabel="step", ylabel="event (0 no event, 1 note off, 2.. MIDI 48..)", title=title)
    fig.colorbar(image, ax=ax, label="probability")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
