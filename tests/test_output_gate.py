"""Personal data that slipped into a project (imported with --allow-pii) is caught again on
the way out: quotes and REFI-QDA projects with personal data are refused."""

from __future__ import annotations

from conftest import CODEBOOK, dump_db

LEAKY = ("Interviewer: How can readers reach you?\n\n"
         "KZ-09: Write to me at expert.kz09@example.org, I answer every letter.\n\n"
         "Interviewer: And the CSTO?\n\n"
         "KZ-09: It worked as a rapid deployment force.\n")


def test_quotes_refuse_personal_data_unless_allowed(cli, db_path, tmp_path):
    t = tmp_path / "KZ-09.txt"
    t.write_text(LEAKY, encoding="utf-8")
    refused = cli("import", t)
    assert refused.exit_code == 1 and "email 'expert.kz09@example.org'" in refused.output
    assert not db_path.exists()
    assert cli("import", t, "--allow-pii").exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    codings = tmp_path / "c.csv"
    codings.write_text("transcript,segment,code\nKZ-09,2,csto_efficacy\nKZ-09,4,csto_efficacy\n",
                       encoding="utf-8")
    assert cli("codings", "import", "--new-coder", codings, "--coder", "alice").exit_code == 0
    out = tmp_path / "quotes.md"
    result = cli("quotes", "--theme", "csto_efficacy", "--coder", "alice", "-o", out)
    assert result.exit_code == 1
    assert "email 'expert.kz09@example.org'" in result.output
    assert not out.exists()
    before = dump_db(db_path)
    allowed = cli("quotes", "--theme", "csto_efficacy", "--coder", "alice", "-o", out,
                  "--allow-pii")
    assert allowed.exit_code == 0 and "expert.kz09@example.org" in out.read_text("utf-8")
    assert dump_db(db_path) == before


def test_codings_and_qdpx_exports_refuse_personal_data(cli, tmp_path):
    t = tmp_path / "KZ-09.txt"
    t.write_text(LEAKY, encoding="utf-8")
    assert cli("import", t, "--allow-pii").exit_code == 0
    assert cli("codebook", "load", CODEBOOK).exit_code == 0
    codings = tmp_path / "c.csv"
    codings.write_text("transcript,segment,code\nKZ-09,2,reforms\n", encoding="utf-8")
    assert cli("codings", "import", "--new-coder", codings, "--coder", "alice").exit_code == 0
    for args in (["codings", "export", "-o", tmp_path / "out.csv"],
                 ["export", "qdpx", tmp_path / "out.qdpx"]):
        result = cli(*args)
        assert result.exit_code == 1 and "expert.kz09@example.org" in result.output
        assert not (tmp_path / args[-1]).exists()
        assert cli(*args, "--allow-pii").exit_code == 0
