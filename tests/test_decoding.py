"""Contracts of decoding: n-gram LMs, beam search (with LM and lexicon), positions, calibration, tuning."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from seqvision.cli import main
from seqvision.data.alphabet import Alphabet
from seqvision.errors import ConfigError, DataError
from seqvision.tasks.lines.calibration import (
    expected_calibration_error,
    fit_temperature,
    matched_words,
    reliability_plot,
)
from seqvision.tasks.lines.decoding.beam import DecoderSpec, make_decoder
from seqvision.tasks.lines.decoding.ctc import greedy_decode
from seqvision.tasks.lines.decoding.lm import SPACE, NgramLM, tokenize
from seqvision.tasks.lines.decoding.tune import tune_lm

pytest.importorskip("flashlight.lib.text.decoder", reason="beam search needs flashlight-text (the [lm] extra)")

CORPUS = ["the cat sat on the mat", "a cat and a hat", "the cat ate", "my cat is fat", "that cat sat"] * 4
ALPHABET = Alphabet(sorted(set(" abcdefghijklmnopqrstuvwxyz")))


def frames_for(text: str, alphabet: Alphabet = ALPHABET, peak: float = 0.98, rng=None) -> np.ndarray:
    """Log-probabilities spelling ``text``: a character per frame, blanks between, ``peak`` on the best class."""
    rng = rng or np.random.default_rng(0)
    path = []
    for ch in text:
        path += [alphabet.index[ch], 0]
    K = len(alphabet)
    probs = np.full((len(path) + 1, K), (1 - peak) / (K - 1))
    probs[np.arange(len(path)), path] = peak
    probs[-1, :] = (1 - peak) / (K - 1)
    probs[-1, 0] = peak
    probs *= rng.uniform(0.9, 1.1, probs.shape)
    probs /= probs.sum(-1, keepdims=True)
    return np.log(probs).astype(np.float32)


def ambiguous(first: str, second: str, p_first: float = 0.55) -> np.ndarray:
    """'c?t' where the middle frame gives ``first`` p_first and ``second`` the rest (almost)."""
    lp = np.exp(frames_for("cat"))
    t = 2  # c, blank, [a], blank, t
    lp[t, :] = 0.001
    lp[t, ALPHABET.index[first]] = p_first
    lp[t, ALPHABET.index[second]] = 1 - p_first - 0.001 * (len(ALPHABET) - 2)
    return np.log(lp / lp.sum(-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lm") / "cats.arpa"
    NgramLM.build(CORPUS, order=4, unit="char").save(path)
    return path


# -- n-gram models ---------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", ["char", "word"])
@pytest.mark.parametrize("context", [("<s>", "t", "h"), ("q", "z", "x"), ("<s>",), ()])
def test_ngram_probabilities_sum_to_one(unit: str, context: tuple[str, ...]) -> None:
    lm = NgramLM.build(CORPUS, order=3, unit=unit)
    if unit == "word":
        context = tuple("the cat sat".split()[: len(context)])
    total = sum(math.exp(lm.logprob(context, w)) for w in [*lm.vocab, "</s>", "<unk>"])
    assert total == pytest.approx(1.0, abs=1e-4)


def test_ngram_prefers_what_it_saw_and_round_trips_through_arpa(tmp_path: Path) -> None:
    lm = NgramLM.build(CORPUS, order=4, unit="char")
    assert lm.logprob(tokenize("the c", "char"), "a") > lm.logprob(tokenize("the c", "char"), "o")
    assert lm.perplexity(["the cat sat"]) < lm.perplexity(["zqx vvk"])
    lm.save(tmp_path / "lm.arpa")
    back = NgramLM.load(tmp_path / "lm.arpa")
    assert (back.unit, back.order, back.info["lines"]) == ("char", 4, len(CORPUS))
    for text in ("the cat sat", "a hat", "zebra"):
        assert back.score_text(text) == pytest.approx(lm.score_text(text), abs=1e-4)


def test_foreign_arpa_without_our_header_infers_its_unit(tmp_path: Path) -> None:
    lm = NgramLM.build(CORPUS, order=2, unit="char")
    lm.save(tmp_path / "ours.arpa")
    text = (tmp_path / "ours.arpa").read_text(encoding="utf-8")
    foreign = text[text.index("\\data\\") :]
    (tmp_path / "kenlm.arpa").write_text(foreign, encoding="utf-8")
    assert NgramLM.load(tmp_path / "kenlm.arpa").unit == "char"
    words = NgramLM.build(CORPUS, order=2, unit="word")
    words.save(tmp_path / "w.arpa")
    w_text = (tmp_path / "w.arpa").read_text(encoding="utf-8")
    (tmp_path / "w2.arpa").write_text(w_text[w_text.index("\\data\\") :], encoding="utf-8")
    assert NgramLM.load(tmp_path / "w2.arpa").unit == "word"


def test_bad_arpa_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such language model"):
        NgramLM.load(tmp_path / "missing.arpa")
    (tmp_path / "junk.arpa").write_text("hello\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"junk\.arpa: not an ARPA"):
        NgramLM.load(tmp_path / "junk.arpa")
    (tmp_path / "bad.arpa").write_text("\\data\\\nngram 1=1\n\n\\1-grams:\nx y z w\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.arpa:5: not an ARPA n-gram line"):
        NgramLM.load(tmp_path / "bad.arpa")


def test_char_tokens_write_spaces_visibly() -> None:
    assert tokenize(" a  b ", "char") == ["a", SPACE, "b"]
    assert tokenize(" a  b ", "word") == ["a", "b"]


# -- beam search -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_beam_without_lm_matches_greedy_on_clear_lines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(list("abcdefghij  "), size=int(rng.integers(1, 30)))).strip() or "a"
    text = " ".join(text.split())
    lp = frames_for(text, rng=rng)
    greedy = greedy_decode(lp, len(lp), ALPHABET)
    beam = make_decoder(DecoderSpec("beam", beam_width=8), ALPHABET)(lp, len(lp))
    assert greedy.text == text
    assert beam.text == greedy.text
    assert beam.char_frames == greedy.char_frames
    assert beam.char_confidences == pytest.approx(greedy.char_confidences)


def test_character_lm_resolves_an_ambiguous_frame(char_lm: Path) -> None:
    lp = ambiguous("o", "a")  # the network slightly prefers "cot"; the LM has only ever seen "cat"
    assert greedy_decode(lp, len(lp), ALPHABET).text == "cot"
    assert make_decoder(DecoderSpec("beam", 8), ALPHABET)(lp, len(lp)).text == "cot"
    with_lm = make_decoder(DecoderSpec("beam", 8, str(char_lm), lm_weight=1.0, bonus=0.0), ALPHABET)
    read = with_lm(lp, len(lp))
    assert read.text == "cat"
    # its confidence is the decoder's (network and LM), not the network's 45 % for the 'a'
    assert np.exp(lp[2, ALPHABET.index["a"]]) < 0.5 < 0.6 < read.char_confidences[1]
    clear = ambiguous("o", "a", p_first=0.97)  # when the image is clear, the LM must not overrule it
    assert with_lm(clear, len(clear)).text == "cot"


def test_lexicon_and_word_lm_keep_to_known_words(tmp_path: Path) -> None:
    lexicon = tmp_path / "words.txt"
    lexicon.write_text("# a comment\ncat\nhat\nmat\tfrequent\n", encoding="utf-8")
    lp = ambiguous("o", "a")
    assert make_decoder(DecoderSpec("beam", 8, lexicon=str(lexicon)), ALPHABET)(lp, len(lp)).text == "cat"
    NgramLM.build(CORPUS, order=2, unit="word").save(tmp_path / "w.arpa")
    spec = DecoderSpec("beam", 8, str(tmp_path / "w.arpa"), lm_weight=1.0, bonus=0.0)
    assert make_decoder(spec, ALPHABET)(lp, len(lp)).text == "cat"


def test_decoder_misuse_is_a_clear_error(char_lm: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="need --decoder beam"):
        make_decoder(DecoderSpec("greedy", lm=str(char_lm)), ALPHABET)
    with pytest.raises(ConfigError, match="unknown decoder"):
        make_decoder(DecoderSpec("viterbi"), ALPHABET)
    (tmp_path / "lex.txt").write_text("cat\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="open-vocabulary"):
        make_decoder(DecoderSpec("beam", lm=str(char_lm), lexicon=str(tmp_path / "lex.txt")), ALPHABET)
    (tmp_path / "greek.txt").write_text("γάτα\n", encoding="utf-8")
    with pytest.raises(DataError, match="no word in it can be written"):
        make_decoder(DecoderSpec("beam", lexicon=str(tmp_path / "greek.txt")), ALPHABET)
    with pytest.raises(DataError, match="no such lexicon"):
        make_decoder(DecoderSpec("beam", lexicon=str(tmp_path / "none.txt")), ALPHABET)


# -- positions ---------------------------------------------------------------------------------------
def test_char_and_word_positions_follow_the_frames() -> None:
    lp = frames_for("ab cd")  # frames: a=0 b=2 ' '=4 c=6 d=8, T=11
    d = greedy_decode(lp, len(lp), ALPHABET)
    d.width = 1100.0  # the line image was 100 px per frame
    spans = d.char_spans()
    assert [round(a) for a, _ in spans] == [0, 150, 350, 550, 750]
    assert all(a < b for a, b in spans) and spans[-1][1] <= 1100
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))  # characters tile the line
    words = d.words()
    assert [w.text for w in words] == ["ab", "cd"]
    assert (words[0].x0, words[0].x1) == (spans[0][0], spans[1][1])
    assert words[1].confidence == pytest.approx(d.char_confidences[3] * d.char_confidences[4])
    assert d.words(11.0)[1].x0 == pytest.approx(5.5)  # any other width scales the same frames


# -- calibration -------------------------------------------------------------------------------------
def test_word_matching_follows_the_alignment() -> None:
    assert matched_words("the cat sat".split(), "the cat sat".split()) == [True, True, True]
    assert matched_words("the cot sat".split(), "the cat sat".split()) == [True, False, True]
    assert matched_words("the big cat".split(), "the cat".split()) == [True, False, True]
    assert matched_words([], "a b".split()) == []


def test_ece_of_known_cases() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) == pytest.approx(0.0)
    assert expected_calibration_error([0.95] * 4, [True, False, True, False]) == pytest.approx(0.45)


def test_temperature_fixes_an_over_confident_model(tmp_path: Path) -> None:
    """A network 99 % sure of words that are right 60 % of the time: the fitted temperature is > 1 and helps."""
    rng = np.random.default_rng(0)
    decoded, log_probs, refs = [], [], []
    for i in range(200):
        lp = frames_for("ab", peak=0.99, rng=rng)
        decoded.append(greedy_decode(lp, len(lp), ALPHABET))
        log_probs.append(lp)
        refs.append("ab" if i % 5 < 3 else "xy")
    fit = fit_temperature(decoded, log_probs, refs, ALPHABET)
    assert fit.temperature > 1.5
    assert fit.accuracy == pytest.approx(0.6)
    assert fit.ece_after < fit.ece_before / 2
    assert fit.nll_after < fit.nll_before
    reliability_plot(tmp_path / "r.png", {"before": fit.before, "after": fit.after})
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tuning_finds_a_weight_that_uses_the_lm(char_lm: Path) -> None:
    log_probs = [ambiguous("o", "a"), frames_for("the cat"), frames_for("a hat")]
    refs = ["cat", "the cat", "a hat"]
    best, trials = tune_lm(
        DecoderSpec("beam", 8, str(char_lm), lm_weight=0.0, bonus=0.0),
        log_probs,
        refs,
        ALPHABET,
        weights=(0.0, 1.0),
        bonuses=(0.0,),
        workers=1,
    )
    assert best.lm_weight == 1.0 and len(trials) == 2
    assert min(t.cer for t in trials) == 0.0 < max(t.cer for t in trials)


# -- command line -------------------------------------------------------------------------------------
def test_lm_build_from_text_and_labelled_data(tmp_path: Path, lines_dir: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n\n", encoding="utf-8")
    assert (
        main(["lm", "build", str(corpus), "--order", "3", "--out", str(tmp_path / "c.arpa"), "--val", str(corpus)]) == 0
    )
    out = capsys.readouterr().out
    assert "char 3-gram from 20 lines" in out and "perplexity per char" in out
    assert (
        main(["lm", "build", str(lines_dir / "labels.tsv"), "--unit", "word", "--out", str(tmp_path / "w.arpa")]) == 0
    )
    assert NgramLM.load(tmp_path / "w.arpa").unit == "word"
    assert main(["lm", "build", str(tmp_path / "nothing.txt"), "--out", str(tmp_path / "x.arpa")]) == 1
    assert "nothing.txt: no such file" in capsys.readouterr().err
    assert main(["lm", "build", str(corpus), "--order", "0", "--out", str(tmp_path / "x.arpa")]) == 1
    assert "--order must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "x.arpa").exists()


def test_eval_with_lm_tuning_and_calibrate(trained_run: Path, lines_dir: Path, tmp_path: Path, capsys) -> None:
    labels = lines_dir / "labels.tsv"
    texts = [line.split("\t", 1)[1] for line in labels.read_text(encoding="utf-8").splitlines() if "\t" in line]
    NgramLM.build(texts, 4, "char").save(tmp_path / "lm.arpa")
    assert main(["eval", str(trained_run), str(labels), "--lm", str(tmp_path / "lm.arpa"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decoder"].startswith("beam 16, LM lm.arpa") and result["lm_weight"] == 0.8
    assert main(["eval", str(trained_run), str(labels), "--tune-lm", "--lm", str(tmp_path / "lm.arpa")]) == 0
    captured = capsys.readouterr()
    assert "best: --lm-weight" in captured.err and "CER" in captured.out
    assert main(["eval", str(trained_run), str(labels), "--tune-lm"]) == 1
    assert "--tune-lm needs --lm" in capsys.readouterr().err

    out = tmp_path / "calibrated"
    assert main(["calibrate", str(trained_run), str(labels), "--out", str(out)]) == 1  # the tiny model reads ~nothing
    assert "calibration needs at least 20" in capsys.readouterr().err
    assert not out.with_suffix(".json").exists()
    argv = ["calibrate", "print-en", str(labels), "--out", str(out), "--plot", str(tmp_path / "r.png")]
    assert main(argv) == 0
    assert "word-confidence ECE" in capsys.readouterr().out
    meta = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    from seqvision.tasks.lines.predictor import Recognizer

    rec = Recognizer.load(out.with_suffix(".safetensors"))
    assert rec.temperature == pytest.approx(meta["calibration"]["temperature"]) and rec.temperature != 1.0
    assert meta["calibration"]["words"] > 60 and {"ece_before", "ece_after", "data"} <= set(meta["calibration"])
    assert (tmp_path / "r.png").is_file()
    bundled = json.loads((Path(Recognizer.load("print-en").path).with_suffix(".json")).read_text(encoding="utf-8"))
    assert bundled["calibration"]["data"] != str(labels)  # the source model is untouched


def test_read_json_with_beam_and_lm(trained_run: Path, lines_dir: Path, tmp_path: Path, capsys) -> None:
    images = sorted(str(p) for p in (lines_dir / "images").glob("*.png"))[:3]
    NgramLM.build(CORPUS, 3, "char").save(tmp_path / "lm.arpa")
    args = ["read", str(trained_run), *images, "--format", "json", "--lm", str(tmp_path / "lm.arpa")]
    assert main([*args, "--out", str(tmp_path / "out.jsonl")]) == 0
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["image"] for r in records] == images
    for r in records:
        assert len(r["chars"]) == len(r["text"])
        assert [w["text"] for w in r["words"]] == r["text"].split()
        assert all(0 <= c["x0"] <= c["x1"] <= r["width"] for c in r["chars"])
    assert main(["read", str(trained_run), images[0], "--decoder", "greedy", "--lm", str(tmp_path / "lm.arpa")]) == 1
    assert "need --decoder beam" in capsys.readouterr().err


def test_a_temperature_fitted_without_an_lm_is_not_applied_with_one(char_lm: Path) -> None:
    from seqvision.tasks.lines.predictor import Recognizer

    rec = Recognizer.load("print-en")  # bundled, calibrated for greedy decoding
    assert rec.temperature == pytest.approx(rec.metadata["calibration"]["temperature"]) != 1.0
    assert rec.calibration_note is None
    rec.set_decoder(DecoderSpec("beam", 8, str(char_lm)))
    assert rec.temperature == 1.0 and "calibrated without a language model" in rec.calibration_note
    rec.set_decoder(DecoderSpec("beam", 8))  # plain beam search: no LM, the fitted temperature applies
    assert rec.temperature != 1.0 and rec.calibration_note is None
