from django.db import migrations

# The database keeps each course's meeting_scheduled (an open meeting of the course has a
# time), whatever writes the rows (the pages, the admin, the scaled demo's INSERT ... SELECT):
# a course reads it from its meetings whenever the course row is written, so a save from a
# stale copy of the course cannot put back an old value; and after each statement that
# inserts, updates or deletes meetings, the courses they belonged to and now belong to are
# written again where the value has changed. Statement triggers with transition tables: a bulk
# insert of meetings touches each course once.
KEEP_SCHEDULED = """
CREATE FUNCTION referrals_course_has_scheduled_meeting(course bigint) RETURNS boolean AS $$
    SELECT EXISTS (
        SELECT 1 FROM coordination_meeting m
         WHERE m.course_id = course
           AND m.status IN ('planned', 'rescheduled')
           AND m.scheduled_at IS NOT NULL
    )
$$ LANGUAGE sql STABLE;

CREATE FUNCTION referrals_course_meeting_scheduled() RETURNS trigger AS $$
BEGIN
    NEW.meeting_scheduled := referrals_course_has_scheduled_meeting(NEW.id);
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER course_meeting_scheduled BEFORE INSERT OR UPDATE ON referrals_course
    FOR EACH ROW EXECUTE FUNCTION referrals_course_meeting_scheduled();

CREATE FUNCTION coordination_meetings_changed(courses bigint[]) RETURNS void AS $$
    -- The course's own trigger sets the value; this only writes the rows that are wrong.
    UPDATE referrals_course c SET meeting_scheduled = NOT c.meeting_scheduled
     WHERE c.id = ANY (courses)
       AND c.meeting_scheduled IS DISTINCT FROM referrals_course_has_scheduled_meeting(c.id)
$$ LANGUAGE sql;

CREATE FUNCTION coordination_meetings_inserted() RETURNS trigger AS $$
BEGIN
    PERFORM coordination_meetings_changed(ARRAY(SELECT DISTINCT course_id FROM new_meetings));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION coordination_meetings_updated() RETURNS trigger AS $$
BEGIN
    PERFORM coordination_meetings_changed(ARRAY(
        SELECT course_id FROM new_meetings UNION SELECT course_id FROM old_meetings
    ));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION coordination_meetings_deleted() RETURNS trigger AS $$
BEGIN
    PERFORM coordination_meetings_changed(ARRAY(SELECT DISTINCT course_id FROM old_meetings));
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER meetings_inserted AFTER INSERT ON coordination_meeting
    REFERENCING NEW TABLE AS new_meetings
    FOR EACH STATEMENT EXECUTE FUNCTION coordination_meetings_inserted();

CREATE TRIGGER meetings_updated AFTER UPDATE ON coordination_meeting
    REFERENCING OLD TABLE AS old_meetings NEW TABLE AS new_meetings
    FOR EACH STATEMENT EXECUTE FUNCTION coordination_meetings_updated();

CREATE TRIGGER meetings_deleted AFTER DELETE ON coordination_meeting
    REFERENCING OLD TABLE AS old_meetings
    FOR EACH STATEMENT EXECUTE FUNCTION coordination_meetings_deleted();

-- The courses there already: writing each one fires its trigger.
UPDATE referrals_course SET meeting_scheduled = meeting_scheduled;
"""

FORGET_SCHEDULED = """
DROP TRIGGER meetings_deleted ON coordination_meeting;
DROP TRIGGER meetings_updated ON coordination_meeting;
DROP TRIGGER meetings_inserted ON coordination_meeting;
DROP FUNCTION coordination_meetings_deleted();
DROP FUNCTION coordination_meetings_updated();
DROP FUNCTION coordination_meetings_inserted();
DROP FUNCTION coordination_meetings_changed(bigint[]);
DROP TRIGGER course_meeting_scheduled ON referrals_course;
DROP FUNCTION referrals_course_meeting_scheduled();
DROP FUNCTION referrals_course_has_scheduled_meeting(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0003_meeting_action_municipality"),
        ("referrals", "0005_course_meeting_scheduled"),
    ]

    operations = [migrations.RunSQL(KEEP_SCHEDULED, FORGET_SCHEDULED)]
