"""What a run reads: the project, seeds, prompts and data files, screened and cut to fit."""
