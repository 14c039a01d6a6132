#!/usr/bin/env python3
"""A reference pipeline worker in Python with asyncpg: the SQL side of the contract with this API.

It writes what the real pipeline writes, straight into PostgreSQL, and never calls the API: claim a PENDING
run (FOR UPDATE SKIP LOCKED, so any number of workers never take the same run), mark it RUNNING at stage 1,
write each stage's output, the inspiration report at stage 1 and the five opportunity cards at stage 5, then
COMPLETED (or FAILED with an errorMessage). The database's triggers announce every change to the API's
subscribers; nothing else is needed. The stages' content here is placeholder text: the real pipeline puts
its model's output in the same columns.

    DATABASE_URL=postgresql://... python3 examples/pipeline_worker.py [--once] [--delay 1.5] [--fail-at N] [--step]

--once     stop when no PENDING run is left
--delay S  seconds spent on each stage (default 1)
--fail-at  fail every run at stage N (1-5), as a model error would
--step     advance one stage per line read on standard input (tests and demos follow each stage)

Needs asyncpg (Debian: apt-get install python3-asyncpg; elsewhere: pip install asyncpg).
"""

import argparse
import asyncio
import json
import os
import sys
import uuid

import asyncpg

# The columns are timestamp without time zone holding UTC (as Prisma writes them): every session runs in UTC,
# so now() and the columns' CURRENT_TIMESTAMP defaults are UTC too.
SERVER_SETTINGS = {"timezone": "UTC", "application_name": "pipeline-worker"}

CLAIM = """
    UPDATE "Run" SET status = 'RUNNING', "currentStage" = 1
    WHERE id = (SELECT id FROM "Run" WHERE status = 'PENDING' ORDER BY "createdAt" FOR UPDATE SKIP LOCKED LIMIT 1)
    RETURNING id, "userId", "companyName"
"""


def log(line):
    print(line, flush=True)


async def claim(pool):
    """The oldest PENDING run nobody else holds, now RUNNING at stage 1; None when there is none."""
    # updatedAt is left out of every UPDATE: the database sets it (the subscriptions' resync reads it).
    return await pool.fetchrow(CLAIM)


async def write_stage(pool, run, stage):
    """One stage's outputs and the run's next state, in one transaction: subscribers see all of it or none."""
    company = run["companyName"]
    async with pool.acquire() as connection, connection.transaction():
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
        await connection.execute(
            """UPDATE "Run" SET status = 'COMPLETED', "completedAt" = now() WHERE id = $1""", run["id"]
        )


async def fail(pool, run, message):
    await pool.execute("""UPDATE "Run" SET status = 'FAILED', "errorMessage" = $2 WHERE id = $1""", run["id"], message)


async def next_step(args):
    if args.step:
        # One line per stage; end of input stops the worker.
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line:
            raise EOFError("standard input closed")
    else:
        await asyncio.sleep(args.delay)


async def process(pool, run, args):
    log(f"claimed {run['id']}")
    for stage in range(1, 6):
        await next_step(args)
        if stage == args.fail_at:
            await fail(pool, run, f"Stage {stage} failed: the model response could not be parsed")
            log(f"run {run['id']} FAILED at stage {stage}")
            return
        await write_stage(pool, run, stage)
        log(f"run {run['id']} stage {stage} written")
    log(f"run {run['id']} COMPLETED")


async def main():
    parser = argparse.ArgumentParser(description="Reference pipeline worker (asyncpg): the SQL contract with the API.")
    parser.add_argument("--once", action="store_true", help="stop when no PENDING run is left")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per stage (default 1)")
    parser.add_argument("--fail-at", type=int, choices=range(1, 6), help="fail every run at this stage")
    parser.add_argument("--step", action="store_true", help="advance one stage per line on standard input")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        parser.error("set DATABASE_URL to the API's database")
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2, server_settings=SERVER_SETTINGS)
    try:
        while True:
            run = await claim(pool)
            if run is None:
                if args.once:
                    log("no PENDING run left")
                    return
                await asyncio.sleep(0.5)
                continue
            try:
                await process(pool, run, args)
            except (Exception, asyncio.CancelledError) as error:
                # Never leave a claimed run RUNNING forever.
                await fail(pool, run, f"Stage interrupted: the worker stopped ({type(error).__name__})")
                raise
    finally:
        await pool.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (EOFError, KeyboardInterrupt):
        sys.exit(1)
