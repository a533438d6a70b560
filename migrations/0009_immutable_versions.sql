-- A script version is immutable once stored: a deploy inserts a new one and
-- a rollback moves scripts.current_version. Refuse any UPDATE so no code
-- path (or hand-written SQL) can change what a version number means. The
-- one change allowed is the author becoming NULL when its user is deleted
-- (ON DELETE SET NULL). Deleting stays possible: deleting a script deletes
-- its versions.
CREATE FUNCTION picloud_refuse_version_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.author_id IS NULL AND (to_jsonb(NEW) - 'author_id') = (to_jsonb(OLD) - 'author_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'script versions are immutable (script %, version %)', OLD.script_id, OLD.version
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER script_versions_immutable BEFORE UPDATE ON script_versions
    FOR EACH ROW EXECUTE FUNCTION picloud_refuse_version_update();
