"""The state a composition carries between reward calls, in one object.

The original keeps these as loose RLTuner attributes (`beat`, `composition`,
`composition_direction`, `leapt_from`, `steps_since_last_leap`) and its own TODO asks for a class
so the leap direction cannot be changed by accident. The leap fields are only written by
`detect_leap_up_back`, exactly when the original writes them.
"""
import dataclasses


@dataclasses.dataclass
class CompositionState:
    composition: list = dataclasses.field(default_factory=list)  # action indices played so far
    beat: int = 0                     # index of the next note within the composition
    composition_direction: int = 0    # ASCENDING / DESCENDING while a leap is unresolved, else 0
    leapt_from: int = None            # note the unresolved leap started from, else None
    steps_since_last_leap: int = 0

    def reset(self):
        """Beat 0, no notes, no pending leap: what RLTuner.reset_composition does."""
        self.composition = []
        self.beat = 0
        self.composition_direction = 0
        self.leapt_from = None
        self.steps_since_last_leap = 0

    def append(self, action_note):
        """Records a played note and advances the beat, as the original does after the reward."""
        self.composition.append(int(action_note))
        self.beat += 1
