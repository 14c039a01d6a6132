#!/usr/bin/env python3
"""A reference pipeline worker in Python with asyncpg: the SQL side of the contract with this API.

It writes what the real pipeline writes, straight into PostgreSQL, and never calls the API. It claims the oldest
run that is PENDING, or RUNNING with an expired lease (its worker crashed or hung: FOR UPDATE SKIP LOCKED, so any
number of workers never take the same run), and holds a lease on it (RunLease) that it extends while it works.
Each stage's outputs (the inspiration report at stage 1, the five opportunity cards at stage 5) and the run's next
state are one transaction, which first locks the run and checks that the lease is still this claim's: a run the
user cancelled or deleted, or that another worker took over, is left alone with one line in the log, and the
worker takes the next job. The database's triggers announce every change to the API's subscribers; nothing else
is needed. The stages' content here is placeholder text: the real pipeline puts its model's output in the same
columns.

    DATABASE_URL=postgresql://... python3 examples/pipeline_worker.py [--once] [--delay 1.5] [--fail-at N] [--step]

--once          stop when no run is left to claim
--delay S       seconds spent on each stage (default 1)
--fail-at N     fail every run at stage N (1-5), as a model error would
--step          advance one stage per line read on standard input (tests and demos follow each stage)
RUN_LEASE_SECONDS (default 60): how long a claim lasts without a sign of life; the worker extends it every third
    of that. RUN_MAX_ATTEMPTS (default 3): claims of one run before a worker gives up on it (FAILED). Every worker
    of one database should use the same values.

Needs asyncpg (Debian: apt-get install python3-asyncpg; elsewhere: pip install asyncpg).
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import uuid

import asyncpg

# The columns are timestamp without time zone holding UTC (as Prisma writes them): every session runs in UTC,
# so now() and the columns' CURRENT_TIMESTAMP defaults are UTC too.
SERVER_SETTINGS = {"timezone": "UTC", "application_name": "pipeline-worker"}

# The oldest run nobody holds: PENDING, or RUNNING with a lease that has expired (or none). The lease is read
# from the statement's snapshot: a run another worker claimed just before this statement locked it passes again
# with that lease unseen, so TAKE_LEASE decides.
CLAIMABLE = """
    SELECT r.id, r."userId", r."companyName", r.status, r."currentStage", coalesce(l.attempt, 0) AS attempts
      FROM "Run" r LEFT JOIN "RunLease" l ON l."runId" = r.id
     WHERE r.status = 'PENDING'
        OR (r.status = 'RUNNING' AND coalesce(l."expiresAt", '-infinity') < now() AT TIME ZONE 'UTC')
     ORDER BY r."createdAt"
     LIMIT 1
       FOR UPDATE OF r SKIP LOCKED
"""
# A new lease, or the expired one of a worker that went silent; no row when the lease is live as committed now
# (another worker claimed the run meanwhile): then this claim is abandoned.
TAKE_LEASE = """
    INSERT INTO "RunLease" ("runId", token, attempt, "expiresAt")
    VALUES ($1, $2, 1, now() AT TIME ZONE 'UTC' + make_interval(secs => $3))
    ON CONFLICT ("runId") DO UPDATE
       SET token = EXCLUDED.token, attempt = "RunLease".attempt + 1, "expiresAt" = EXCLUDED."expiresAt"
     WHERE "RunLease"."expiresAt" < now() AT TIME ZONE 'UTC'
    RETURNING attempt
"""
START = """UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1 WHERE id = $1 AND status = 'PENDING'"""
# A sign of life: touches no row once the run was cancelled, deleted or taken over.
EXTEND_LEASE = """
    UPDATE "RunLease" SET "expiresAt" = now() AT TIME ZONE 'UTC' + make_interval(secs => $3)
     WHERE "runId" = $1 AND token = $2
"""
LOCK_RUN = """SELECT status FROM "Run" WHERE id = $1 FOR UPDATE"""
RELEASE = """DELETE FROM "RunLease" WHERE "runId" = $1"""
FAIL = """UPDATE "Run" SET status = 'FAILED', "errorMessage" = $2 WHERE id = $1"""


class RunLost(Exception):
    """The run is no longer this worker's: cancelled or deleted by its user, or taken over by another worker."""


def log(line):
    print(line, flush=True)


async def claim(pool, args):
    """The next run to work on, leased to this worker, or None. Gives up on a run claimed too often."""
    while True:
        async with pool.acquire() as connection, connection.transaction():
            run = await connection.fetchrow(CLAIMABLE)
            if run is None:
                return None
            if run["status"] == "RUNNING" and run["attempts"] >= args.max_attempts:
                message = (
                    f"The pipeline stopped working on this run {run['attempts']} times (its worker crashed or hung);"
                    " retry it to start again"
                )
                await connection.execute(FAIL, run["id"], message)
                await connection.execute(RELEASE, run["id"])
                log(f"gave up on run {run['id']} after {run['attempts']} attempts: FAILED")
                continue
            token = str(uuid.uuid4())
            attempt = await connection.fetchval(TAKE_LEASE, run["id"], token, args.lease_seconds)
            if attempt is None:
                continue  # claimed by another worker between this statement's snapshot and its lock
            await connection.execute(START, run["id"])
            first_stage = 1 if run["status"] == "PENDING" else max(run["currentStage"], 1)
            return {**dict(run), "token": token, "attempt": attempt, "first_stage": first_stage}


async def guarded(pool, run, args, write):
    """Runs `write(connection)` in a transaction that holds the run and its lease; raises RunLost otherwise."""
    async with pool.acquire() as connection, connection.transaction():
        # The run's row first (the API's cancel, delete and retry lock it first too), then the lease.
        status = await connection.fetchval(LOCK_RUN, run["id"])
        held = await connection.execute(EXTEND_LEASE, run["id"], run["token"], args.lease_seconds)
        if status is None:
            raise RunLost("was deleted")
        if status != "RUNNING":
            raise RunLost(f"is {status}")
        if held != "UPDATE 1":
            raise RunLost("was taken over by another worker (its lease expired)")
        await write(connection)


async def write_stage(connection, run, stage):
    """One stage's outputs and the run's next state: subscribers see all of it or none."""
    company = run["companyName"]
    if stage == 1:
        await connection.execute(
            """INSERT INTO "InspirationReport" (id, "runId", "inspiration1Title", "inspiration1Content",
                 "inspiration1Elements", "inspiration2Title", "inspiration2Content", "inspiration2Elements", "updatedAt")
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())""",
            str(uuid.uuid4()),
            run["id"],
            "Convenience as a ritual",
            f"How {company} shoppers turn quick meals into moments.",
            ["convenience", "ritual"],
            "Local pride",
            "Provenance stories from farm to shelf.",
            ["provenance", "community"],
        )
    await connection.execute(
        """INSERT INTO "StageOutput" (id, "runId", "stageNumber", "markdownOutput", "jsonOutput")
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        str(uuid.uuid4()),
        run["id"],
        stage,
        f"# Stage {stage}: {company}\n\nWhat this stage found.\n",
        json.dumps({"stage": stage}),
    )
    if stage < 5:
        await connection.execute('UPDATE "Run" SET "currentStage" = $2 WHERE id = $1', run["id"], stage + 1)
        return
    for number in range(1, 6):
        await connection.execute(
            """INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution,
                 why_now, target_segment, quick_win, "updatedAt")
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())""",
            str(uuid.uuid4()),
            run["id"],
            run["userId"],
            number,
            f"{company} opportunity {number}",
            f"A sharper way to win shoppers ({number})",
            "Shoppers cannot find what fits how they live now.",
            "A focused line extension.",
            "Demand moved in the last two quarters.",
            "Urban households aged 25-44",
            "Pilot in ten stores.",
        )
    await connection.execute("""UPDATE "Run" SET status = 'COMPLETED', "completedAt" = now() WHERE id = $1""", run["id"])
    await connection.execute(RELEASE, run["id"])


async def fail(connection, run, message):
    await connection.execute(FAIL, run["id"], message)
    await connection.execute(RELEASE, run["id"])


class Steps:
    """--step: one line of standard input per stage, read by one thread, so a wait given up loses no line."""

    def __init__(self):
        self.lines = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read():
            for line in sys.stdin:
                loop.call_soon_threadsafe(self.lines.put_nowait, line)
            loop.call_soon_threadsafe(self.lines.put_nowait, None)

        # A daemon thread: a worker that is done does not wait for a line that may never come.
        threading.Thread(target=read, daemon=True).start()

    async def next(self):
        if await self.lines.get() is None:
            raise EOFError("standard input closed")


async def next_step(args, steps):
    if steps:
        await steps.next()
    else:
        await asyncio.sleep(args.delay)


async def keep_lease(pool, run, args, work, lost):
    """Extends the lease every third of its length; once it is gone, stops `work` (the run's stages)."""
    while True:
        await asyncio.sleep(args.lease_seconds / 3)
        try:
            held = await pool.execute(EXTEND_LEASE, run["id"], run["token"], args.lease_seconds)
        except (OSError, asyncpg.PostgresError) as error:
            log(f"could not extend the lease of run {run['id']} ({type(error).__name__}); trying again")
            continue
        if held != "UPDATE 1":
            lost.append("was cancelled, deleted or taken over (its lease is gone)")
            work.cancel()
            return


async def process(pool, run, args, steps):
    if run["attempt"] > 1:
        log(f"took over run {run['id']} at stage {run['first_stage']} (attempt {run['attempt']})")
    else:
        log(f"claimed {run['id']}")
    work = asyncio.current_task()
    lost = []
    keeper = asyncio.create_task(keep_lease(pool, run, args, work, lost))
    try:
        for stage in range(run["first_stage"], 6):
            await next_step(args, steps)
            if stage == args.fail_at:
                message = f"Stage {stage} failed: the model response could not be parsed"
                await guarded(pool, run, args, lambda connection: fail(connection, run, message))
                log(f"run {run['id']} FAILED at stage {stage}")
                return
            await guarded(pool, run, args, lambda connection, stage=stage: write_stage(connection, run, stage))
            log(f"run {run['id']} stage {stage} written")
        log(f"run {run['id']} COMPLETED")
    except asyncio.CancelledError:
        if not lost:
            raise
        work.uncancel()
        raise RunLost(lost[0])
    finally:
        keeper.cancel()


async def release_for_another(pool, run):
    """A worker that stops with a run in hand lets the next worker take it over at once, at the same stage."""
    await pool.execute(
        """UPDATE "RunLease" SET "expiresAt" = now() AT TIME ZONE 'UTC' WHERE "runId" = $1 AND token = $2""",
        run["id"],
        run["token"],
    )


async def work_on(pool, run, args, steps):
    """One run, whatever happens to it: the worker goes on to the next job unless it is being stopped."""
    try:
        await process(pool, run, args, steps)
    except RunLost as lost:
        log(f"run {run['id']} {lost}: leaving it and taking the next job")
    except (asyncio.CancelledError, EOFError, KeyboardInterrupt):
        await asyncio.shield(release_for_another(pool, run))
        raise
    except Exception as error:  # a bug or a database failure: the run fails, the worker goes on
        log(f"run {run['id']} failed unexpectedly: {type(error).__name__}: {error}")
        message = f"Stage interrupted: the worker hit an unexpected error ({type(error).__name__})"
        try:
            await guarded(pool, run, args, lambda connection: fail(connection, run, message))
        except (RunLost, OSError, asyncpg.PostgresError):
            pass


async def main():
    parser = argparse.ArgumentParser(description="Reference pipeline worker (asyncpg): the SQL contract with the API.")
    parser.add_argument("--once", action="store_true", help="stop when no run is left to claim")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per stage (default 1)")
    parser.add_argument("--fail-at", type=int, choices=range(1, 6), help="fail every run at this stage")
    parser.add_argument("--step", action="store_true", help="advance one stage per line on standard input")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("set DATABASE_URL to the API's database")
    try:
        args.lease_seconds = float(os.environ.get("RUN_LEASE_SECONDS", "60"))
        args.max_attempts = int(os.environ.get("RUN_MAX_ATTEMPTS", "3"))
    except ValueError as error:
        parser.error(f"RUN_LEASE_SECONDS must be a number of seconds and RUN_MAX_ATTEMPTS an integer ({error})")
    if args.lease_seconds <= 0 or args.max_attempts < 1:
        parser.error("RUN_LEASE_SECONDS must be above 0 and RUN_MAX_ATTEMPTS at least 1")
    main_task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    steps = Steps() if args.step else None
    pool = await asyncpg.create_pool(url, min_size=1, max_size=3, server_settings=SERVER_SETTINGS)
    try:
        while True:
            run = await claim(pool, args)
            if run is None:
                if args.once:
                    log("no run left to claim")
                    return
                await asyncio.sleep(0.5)
                continue
            await work_on(pool, run, args, steps)
    finally:
        await pool.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (EOFError, KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(1)
