"""The engine's stages: small steps over one `PlanState`, run in order by `engine.plan`.

judge → avoid wash sales → allocate (fund a withdrawal → fund required buys → top up →
leftover → round, again while trades below the minimum are dropped) → explain → taxes.
Each stage is pure apart from the state it is given; none does I/O or reads the clock.
"""
