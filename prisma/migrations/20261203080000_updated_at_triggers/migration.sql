-- The database keeps updatedAt right for writers that do not set it, such as the Python pipeline writing SQL:
-- an UPDATE that leaves updatedAt as it was gets the statement time. The columns are timestamp without time
-- zone holding UTC, as Prisma writes them, so the time is taken in UTC whatever the session time zone is.
-- An UPDATE that sets updatedAt itself (Prisma does, on the client) keeps its value.
-- Subscriptions depend on it: the resync after a lost LISTEN connection and the backstop select runs by updatedAt.
-- (No semicolons or quotes in these comments: the migration engine splits the script on them.)

CREATE FUNCTION "set_updated_at"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."updatedAt" IS NOT DISTINCT FROM OLD."updatedAt" THEN
    NEW."updatedAt" := statement_timestamp() AT TIME ZONE 'UTC';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "User_set_updated_at"
  BEFORE UPDATE ON "User"
  FOR EACH ROW EXECUTE FUNCTION "set_updated_at"();

CREATE TRIGGER "Run_set_updated_at"
  BEFORE UPDATE ON "Run"
  FOR EACH ROW EXECUTE FUNCTION "set_updated_at"();

CREATE TRIGGER "OpportunityCard_set_updated_at"
  BEFORE UPDATE ON "OpportunityCard"
  FOR EACH ROW EXECUTE FUNCTION "set_updated_at"();

CREATE TRIGGER "InspirationReport_set_updated_at"
  BEFORE UPDATE ON "InspirationReport"
  FOR EACH ROW EXECUTE FUNCTION "set_updated_at"();
