"""What a run reads and writes: the profile, the run record, the output folder."""
