"""Why the compiled race uses numba: the same race written for numba and for JAX, side by side in one run.

UCB1, Beta-Bernoulli Thompson sampling, and a sliding window around UCB1 (one policy's functions wrapped by
another's, as adapters wrap policies), on 10 Bernoulli arms, 10,000 rounds, 100 repetitions. numba loops over
repetitions in parallel and over rounds inside; JAX scans over rounds and vectorises over repetitions (vmap), the
idiomatic form. Prints the first call (compilation included) and the decisions per second of a second call.
Run in an environment with both installed: pip install numba jax (JAX is not a dependency of banditmap).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

R, K, T, WINDOW = 100, 10, 10_000, 500


def numba_policies() -> dict[str, tuple[Callable[..., Any], ...]]:
    from numba import njit

    from banditmap.sim.kernels import rng

    def ucb1() -> tuple[Callable[..., Any], ...]:
        @njit
        def init(k: int) -> Any:
            return (np.zeros(k), np.zeros(k))

        @njit
        def select(st: Any, t: int, s: np.ndarray, r: int) -> int:
            n, total = st
            best, arm = -1.0, 0
            for k in range(n.shape[0]):
                v = np.inf if n[k] == 0 else total[k] / n[k] + math.sqrt(2.0 * math.log(t + 1) / n[k])
                if v > best:
                    best, arm = v, k
            return arm

        @njit
        def update(st: Any, arm: int, reward: float) -> None:
            st[0][arm] += 1.0
            st[1][arm] += reward
        return init, select, update

    def thompson() -> tuple[Callable[..., Any], ...]:
        @njit
        def init(k: int) -> Any:
            return (np.ones(k), np.ones(k))

        @njit
        def select(st: Any, t: int, s: np.ndarray, r: int) -> int:
            best, arm = -1.0, 0
            for k in range(st[0].shape[0]):
                v = rng.beta(s, r, st[0][k], st[1][k])
                if v > best:
                    best, arm = v, k
            return arm

        @njit
        def update(st: Any, arm: int, reward: float) -> None:
            st[0][arm] += reward
            st[1][arm] += 1.0 - reward
        return init, select, update

    def sliding(inner: tuple[Callable[..., Any], ...]) -> tuple[Callable[..., Any], ...]:
        i_init, i_select, i_update = inner

        @njit
        def init(k: int) -> Any:
            return (i_init(k), np.zeros(WINDOW, np.int64), np.zeros(WINDOW), np.zeros(1, np.int64))

        @njit
        def select(st: Any, t: int, s: np.ndarray, r: int) -> int:
            return i_select(st[0], t, s, r)

        @njit
        def update(st: Any, arm: int, reward: float) -> None:
            slot = st[3][0] % WINDOW
            if st[3][0] >= WINDOW:  # the oldest observation leaves the window
                st[0][0][st[1][slot]] -= 1.0
                st[0][1][st[1][slot]] -= st[2][slot]
            st[1][slot], st[2][slot] = arm, reward
            st[3][0] += 1
            i_update(st[0], arm, reward)
        return init, select, update

    return {"ucb1": ucb1(), "thompson-beta": thompson(), "sliding-window(ucb1)": sliding(ucb1())}


def numba_race(policy: tuple[Callable[..., Any], ...]) -> Callable[[np.ndarray], np.ndarray]:
    from numba import njit, prange

    from banditmap.sim.kernels import rng
    init, select, update = policy

    @njit(parallel=True)
    def race(means: np.ndarray, states: np.ndarray, env: np.ndarray) -> np.ndarray:
        out = np.zeros(means.shape[0])
        for r in prange(means.shape[0]):
            st = init(means.shape[1])
            best = means[r].max()
            for t in range(T):
                arm = select(st, t, states, r)
                update(st, arm, 1.0 if rng.uniform(env, r) < means[r, arm] else 0.0)
                out[r] += best - means[r, arm]
        return out

    def run(means: np.ndarray) -> np.ndarray:
        from banditmap.sim.kernels.rng import stream_seeds
        return race(means, stream_seeds(0, 1, means.shape[0]), stream_seeds(0, 2, means.shape[0]))
    return run


def jax_races() -> dict[str, Callable[[np.ndarray], Any]]:
    import jax
    import jax.numpy as jnp

    def ucb1() -> tuple[Callable[..., Any], ...]:
        def init(k: int) -> Any:
            return (jnp.zeros(k), jnp.zeros(k))

        def select(st: Any, t: Any, key: Any) -> Any:
            n, total = st
            v = jnp.where(n == 0, jnp.inf, total / jnp.maximum(n, 1)
                          + jnp.sqrt(2.0 * jnp.log(t + 1.0) / jnp.maximum(n, 1)))
            return jnp.argmax(v)

        def update(st: Any, arm: Any, reward: Any, t: Any) -> Any:
            return (st[0].at[arm].add(1.0), st[1].at[arm].add(reward))
        return init, select, update

    def thompson() -> tuple[Callable[..., Any], ...]:
        def init(k: int) -> Any:
            return (jnp.ones(k), jnp.ones(k))

        def select(st: Any, t: Any, key: Any) -> Any:
            return jnp.argmax(jax.random.beta(key, st[0], st[1]))

        def update(st: Any, arm: Any, reward: Any, t: Any) -> Any:
            return (st[0].at[arm].add(reward), st[1].at[arm].add(1.0 - reward))
        return init, select, update

    def sliding(inner: tuple[Callable[..., Any], ...]) -> tuple[Callable[..., Any], ...]:
        i_init, i_select, i_update = inner

        def init(k: int) -> Any:
            return (i_init(k), jnp.zeros(WINDOW, jnp.int32), jnp.zeros(WINDOW))

        def select(st: Any, t: Any, key: Any) -> Any:
            return i_select(st[0], t, key)

        def update(st: Any, arm: Any, reward: Any, t: Any) -> Any:
            base, arms, rewards = st
            slot = t % WINDOW
            base = jax.lax.cond(t >= WINDOW, lambda b: (b[0].at[arms[slot]].add(-1.0),
                                                        b[1].at[arms[slot]].add(-rewards[slot])), lambda b: b, base)
            return (i_update(base, arm, reward, t), arms.at[slot].set(arm), rewards.at[slot].set(reward))
        return init, select, update

    def race(policy: tuple[Callable[..., Any], ...]) -> Callable[[np.ndarray], Any]:
        init, select, update = policy

        def one(means: Any, key: Any) -> Any:
            best = means.max()

            def step(carry: Any, t: Any) -> Any:
                st, regret, key = carry
                key, k1, k2 = jax.random.split(key, 3)
                arm = select(st, t, k1)
                reward = (jax.random.uniform(k2) < means[arm]).astype(jnp.float32)
                return (update(st, arm, reward, t), regret + best - means[arm], key), None
            (_, regret, _), _ = jax.lax.scan(step, (init(means.shape[0]), 0.0, key), jnp.arange(T))
            return regret
        compiled = jax.jit(jax.vmap(one))
        keys = jax.random.split(jax.random.PRNGKey(0), R)
        return lambda means: compiled(jnp.asarray(means, jnp.float32), keys).block_until_ready()

    return {"ucb1": race(ucb1()), "thompson-beta": race(thompson()), "sliding-window(ucb1)": race(sliding(ucb1()))}


def measure(name: str, engine: str, run: Callable[[np.ndarray], Any], means: np.ndarray) -> None:
    start = time.perf_counter()
    run(means)
    first = time.perf_counter() - start
    start = time.perf_counter()
    regret = np.asarray(run(means))
    seconds = time.perf_counter() - start
    print(f"  {name:22s} {engine:6s} first call {first:6.2f} s   {R * T / seconds / 1e6:7.2f}M decisions/s   "
          f"regret {regret.mean():7.1f}")


def main() -> None:
    means = np.random.default_rng(0).uniform(0.1, 0.9, (R, K))
    print(f"{K} Bernoulli arms, {T:,} rounds, {R} repetitions")
    races: dict[str, list[tuple[str, Callable[[np.ndarray], Any]]]] = {}
    for name, policy in numba_policies().items():
        races.setdefault(name, []).append(("numba", numba_race(policy)))
    try:
        for name, run in jax_races().items():
            races[name].append(("JAX", run))
    except ImportError:
        print("  JAX not installed (pip install jax to compare)")
    for name, engines in races.items():
        for engine, run in engines:
            measure(name, engine, run, means)


if __name__ == "__main__":
    main()
