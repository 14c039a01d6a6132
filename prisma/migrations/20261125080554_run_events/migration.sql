-- Live run progress: every change a subscriber cares about is announced on the run_events channel with
-- pg_notify, whoever writes it (this server, or the Python pipeline writing SQL directly).
-- Payloads are tiny JSON (ids and what changed, far below the 8 KB limit of NOTIFY), and listeners
-- refetch the data itself. PostgreSQL delivers identical payloads of one transaction once, so five
-- cards inserted together announce one change.
-- (No semicolons or quotes in these comments: the migration engine splits the script on them.)

CREATE FUNCTION "notify_run_event"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  payload jsonb;
BEGIN
  IF TG_TABLE_NAME = 'Run' THEN
    IF TG_OP = 'DELETE' THEN
      payload := jsonb_build_object('runId', OLD."id", 'userId', OLD."userId", 'change', 'deleted',
                                    'status', OLD."status", 'stage', OLD."currentStage", 'updatedAt', now());
    ELSIF TG_OP = 'INSERT' THEN
      payload := jsonb_build_object('runId', NEW."id", 'userId', NEW."userId", 'change', 'created',
                                    'status', NEW."status", 'stage', NEW."currentStage", 'updatedAt', NEW."updatedAt");
    ELSE
      -- Only the columns a progress view shows: other updates (say a rename) stay quiet.
      IF (NEW."status", NEW."currentStage", NEW."errorMessage", NEW."completedAt", NEW."userId")
         IS NOT DISTINCT FROM (OLD."status", OLD."currentStage", OLD."errorMessage", OLD."completedAt", OLD."userId") THEN
        RETURN NULL;
      END IF;
      payload := jsonb_build_object('runId', NEW."id", 'userId', NEW."userId", 'change', 'updated',
                                    'status', NEW."status", 'stage', NEW."currentStage", 'updatedAt', NEW."updatedAt");
    END IF;
  ELSE
    -- StageOutput, InspirationReport, OpportunityCard inserts: the run gained an output.
    payload := jsonb_build_object('runId', NEW."runId",
                                  'userId', (SELECT r."userId" FROM "Run" r WHERE r."id" = NEW."runId"),
                                  'change', TG_TABLE_NAME, 'updatedAt', NEW."createdAt");
  END IF;
  PERFORM pg_notify('run_events', payload::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "Run_notify_run_event"
  AFTER INSERT OR UPDATE OR DELETE ON "Run"
  FOR EACH ROW EXECUTE FUNCTION "notify_run_event"();

CREATE TRIGGER "StageOutput_notify_run_event"
  AFTER INSERT ON "StageOutput"
  FOR EACH ROW EXECUTE FUNCTION "notify_run_event"();

CREATE TRIGGER "InspirationReport_notify_run_event"
  AFTER INSERT ON "InspirationReport"
  FOR EACH ROW EXECUTE FUNCTION "notify_run_event"();

CREATE TRIGGER "OpportunityCard_notify_run_event"
  AFTER INSERT ON "OpportunityCard"
  FOR EACH ROW EXECUTE FUNCTION "notify_run_event"();
