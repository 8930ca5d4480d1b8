"""The pure parts of a PostgreSQL restore (module_utils/site_backup.py): reading pg_restore's
table of contents, skipping the entries of extensions another role owns, and refusing, with a
message naming each object, a restore that other roles' objects stand in the way of.

The listings are pg_restore 15's output for dumps made by the app's role (pg_dump --no-owner)."""

from __future__ import annotations

from ansible_collections.djstack.stack.plugins.module_utils import site_backup as sb

LISTING = "".join(f"{line}\n" for line in [
    ';',
    '; Archive created at 2026-12-04 13:07:14 UTC',
    ';     dbname: shop',
    ';',
    '; Selected TOC Entries:',
    ';',
    '8; 2615 16590 SCHEMA - rep reporting',
    '2; 3079 16386 EXTENSION - citext ',
    '3502; 0 0 COMMENT - EXTENSION citext ',
    '3; 3079 16491 EXTENSION - pg_trgm ',
    '3503; 0 0 COMMENT - EXTENSION pg_trgm ',
    '218; 1259 16573 TABLE public person shop',
    '217; 1259 16572 SEQUENCE public person_id_seq shop',
    '3504; 0 0 SEQUENCE OWNED BY public person_id_seq shop',
    '219; 1259 16587 TABLE public report reporting',
    '220; 1259 16591 VIEW rep people reporting',
    '230; 1255 16600 FUNCTION public slugify(text, integer) shop',
    '3494; 0 16573 TABLE DATA public person shop',
    '3505; 0 0 SEQUENCE SET public person_id_seq shop',
    '3348; 2606 16580 CONSTRAINT public person person_pkey shop',
])


def _row(*fields: str) -> str:
    return "\x1f".join(fields)


def _by_id(entries: list[sb.TocEntry]) -> dict[int, sb.TocEntry]:
    return {entry.dump_id: entry for entry in entries}


def test_toc_entries_are_read_with_their_kind_schema_name_and_owner():
    entries = _by_id(sb.parse_toc(LISTING))
    assert entries[219] == sb.TocEntry(219, "TABLE", "public", "report", "reporting")
    assert entries[2] == sb.TocEntry(2, "EXTENSION", "-", "citext", "")
    assert entries[3502] == sb.TocEntry(3502, "COMMENT", "-", "EXTENSION citext", "")


def test_toc_kinds_of_several_words_and_tags_with_spaces_are_kept_whole():
    entries = _by_id(sb.parse_toc(LISTING))
    assert (entries[3504].desc, entries[3504].tag) == ("SEQUENCE OWNED BY", "person_id_seq")
    assert (entries[3494].desc, entries[3494].tag) == ("TABLE DATA", "person")
    assert entries[230].tag == "slugify(text, integer)"
    assert entries[3348].tag == "person person_pkey"


def test_toc_comment_lines_are_not_entries():
    assert len(sb.parse_toc(LISTING)) == 14


def test_the_entries_of_an_extension_the_database_keeps_are_skipped():
    assert sb.kept_extension_ids(sb.parse_toc(LISTING), {"citext", "plpgsql"}) == {2, 3502}


def test_an_extension_the_database_lacks_is_restored_from_the_backup():
    assert sb.kept_extension_ids(sb.parse_toc(LISTING), {"unaccent"}) == set()


def test_the_filtered_listing_comments_out_the_skipped_entries_only():
    filtered = sb.filtered_toc(LISTING, {2, 3502}).splitlines()
    assert ";2; 3079 16386 EXTENSION - citext " in filtered
    assert ";3502; 0 0 COMMENT - EXTENSION citext " in filtered
    assert "3; 3079 16491 EXTENSION - pg_trgm " in filtered
    assert len(filtered) == len(LISTING.splitlines())
    assert [line for line in filtered if not line.startswith(";")] == [
        line for line in LISTING.splitlines() if not line.startswith(";") and "citext" not in line]


def test_the_inspection_reads_kept_extensions_foreign_objects_and_dependents():
    text = "\x1e".join([
        _row("extension", "citext", "postgres", "", "", ""),
        _row("foreign", "TABLE", "public", "report", "reporting", "public.report"),
        _row("dependent", "VIEW", "rep", "people", "reporting", "rep.people\x1dtable public.person"),
    ]) + "\n"
    live = sb.parse_inspection(text)
    assert live.kept_extensions == frozenset({"citext"})
    assert live.foreign == (sb.LiveObject("TABLE", "public", "report", "reporting", "public.report"),)
    assert live.dependents == ((sb.LiveObject("VIEW", "rep", "people", "reporting", "rep.people"),
                                "table public.person"),)


def test_an_empty_inspection_keeps_nothing_and_blocks_nothing():
    live = sb.parse_inspection("")
    assert live == sb.LiveDatabase(frozenset(), (), ())
    assert sb.restore_blockers(sb.parse_toc(LISTING), live, "shop") == []


def test_another_roles_object_outside_the_backup_does_not_block():
    live = sb.LiveDatabase(frozenset(), (sb.LiveObject("TABLE", "public", "audit", "dba", "public.audit"),), ())
    assert sb.restore_blockers(sb.parse_toc(LISTING), live, "shop") == []


def test_another_roles_object_the_backup_recreates_blocks():
    report = sb.LiveObject("TABLE", "public", "report", "reporting", "public.report")
    blockers = sb.restore_blockers(sb.parse_toc(LISTING), sb.LiveDatabase(frozenset(), (report,), ()), "shop")
    assert [(b.identity, b.reasons) for b in blockers] == [
        ("public.report", ("is in the backup but not shop's, so the restore cannot replace it",))]


def test_a_same_named_object_of_another_kind_does_not_block():
    # A view public.report is not the backup's table public.report.
    view = sb.LiveObject("VIEW", "public", "report", "reporting", "public.report")
    assert sb.restore_blockers(sb.parse_toc(LISTING), sb.LiveDatabase(frozenset(), (view,), ()), "shop") == []


def test_another_roles_object_depending_on_the_roles_blocks_once_with_every_reason():
    people = sb.LiveObject("VIEW", "rep", "people", "reporting", "rep.people")
    live = sb.LiveDatabase(frozenset(), (people,), ((people, "table public.person"),))
    blockers = sb.restore_blockers(sb.parse_toc(LISTING), live, "shop")
    assert len(blockers) == 1
    assert blockers[0].reasons == ("is in the backup but not shop's, so the restore cannot replace it",
                                   "depends on table public.person, which the restore drops first")


def test_the_refusal_names_each_object_its_owner_and_the_fix():
    blockers = [
        sb.LiveObject("TABLE", "public", "report", "reporting", "public.report", ("is in the backup",)),
        sb.LiveObject("VIEW", "rep", "people", "reporting", "rep.people", ("depends on table public.person",)),
    ]
    message = sb.refusal_message("shop", "shop", blockers)
    assert message.startswith("the restore into the database shop was refused before any change")
    assert "table public.report (owner reporting) is in the backup" in message
    assert "view rep.people (owner reporting) depends on table public.person" in message
    assert "ALTER TABLE public.report OWNER TO shop; ALTER VIEW rep.people OWNER TO shop" in message
    assert "or drop it" in message


def test_the_refusal_quotes_a_role_name_sql_needs_quoted():
    blockers = [sb.LiveObject("TABLE", "public", "report", "dba", "public.report", ("is in the backup",))]
    assert 'OWNER TO "Shop-App"' in sb.refusal_message("shop", "Shop-App", blockers)
