"""What the first command after `textsel init` will cost: the one long step (embedding the pool) named up front,
so a user is not surprised by minutes behind the first `search`."""

from __future__ import annotations


def first_command_cost(project) -> str:  # noqa: ANN001 - textsel.project.Project
    """One line on the first expensive step of a new project: embedding every text, unless given."""
    count, model = len(project.pool), project.config.model
    if project.config.precomputed:
        return "Embeddings were given (--embeddings): the first command embeds nothing."
    if project.is_static:
        return (f"The first `textsel embed`, `search` or `next` distils static vectors from {model} once (minutes, "
                f"cached for every project) and embeds all {count:,} texts with them (fast); later rounds embed "
                "only labeled texts and candidates with the transformer.")
    return (f"The first `textsel search`, `next` or `embed` embeds all {count:,} texts with {model} once (the one "
            "long step: minutes per 10,000 texts on a CPU; resumable, with a progress bar; texts embedded before "
            "on this machine are reused). Run `textsel embed` now to get it done.")
