"""What the criticism is about: recurring words and phrases, now against before."""

from __future__ import annotations

from crisisdesk.analysis.topics import terms, topics

CAMPAIGN = "La colomba è fatta con ingredienti scaduti, l'ho visto con i miei occhi."


def test_words_and_neighbouring_pairs_without_function_words() -> None:
    assert terms("Still waiting for my refund, the parcel never arrived") == {
        "waiting",
        "refund",
        "parcel",
        "arrived",
        "waiting refund",
        "refund parcel",
        "parcel arrived",
    }
    # elisions and contractions keep the content word: "dell'impasto" is "impasto"
    assert terms("C'è plastica dell'impasto, don't buy") == {
        "plastica",
        "impasto",
        "buy",
        "plastica impasto",
        "impasto buy",
    }
    assert terms("<script>alert(1)</script>") == {"script", "alert", "script alert", "alert script"}


def test_topics_rank_by_comments_and_compare_with_before() -> None:
    now = [
        (1, "Colomba arrivata in ritardo"),
        (2, "Ritardo nella consegna della colomba, vergogna"),
        (3, "Consegna in ritardo anche stavolta"),
        (4, "Pacco rotto"),
        (5, "Pacco rotto e nessuno risponde"),
    ]
    before = ["Pacco rotto anche il mese scorso", "pacco rotto", "Pacco rotto, di nuovo"]
    found = {t.term: t for t in topics(now, before)}
    assert [t.term for t in topics(now, before)][:2] == ["ritardo", "colomba"]
    assert (found["ritardo"].count, found["ritardo"].before) == (3, 0)
    assert found["ritardo"].rising and found["ritardo"].examples == [1, 2, 3]
    # "pacco rotto" was already frequent: named now, but not rising
    assert (found["pacco rotto"].count, found["pacco rotto"].before) == (2, 3)
    assert not found["pacco rotto"].rising
    # "pacco" and "rotto" always come as "pacco rotto": the pair stands for them
    assert "pacco" not in found and "rotto" not in found
    # a word named once is no topic
    assert "stavolta" not in found


def test_a_copied_sentence_is_one_phrase_and_the_page_name_no_topic() -> None:
    now = [(i, f"Forno Aurora: {CAMPAIGN}") for i in range(6)] + [(9, "Colomba secca")]
    found = topics(now, [], exclude=["Forno Aurora", "forno-aurora"])
    # the campaign's word pairs make one phrase; "colomba" alone is left out, since six of its
    # seven mentions are in that phrase
    assert len(found) == 1
    phrase = found[0]
    assert phrase.term.startswith("colomba fatta ingredienti scaduti")
    assert phrase.count == 6 and phrase.examples == [0, 1, 2]
    assert not any("forno" in t.term or "aurora" in t.term for t in found)


def test_a_shortened_copy_stays_in_the_phrase_but_a_second_topic_is_kept() -> None:
    short = "La colomba è fatta con ingredienti scaduti!!"
    now = [(i, CAMPAIGN) for i in range(4)] + [(4, short)]
    assert [t.term for t in topics(now, [])] == ["colomba fatta ingredienti scaduti"]
    # half of the comments about a broken parcel ask for a refund, half say on arrival: both kept
    parcels = [(i, "Pacco rotto, voglio il rimborso") for i in range(3)]
    parcels += [(i, "Pacco rotto all'arrivo") for i in range(3, 6)]
    assert [t.term for t in topics(parcels, [])] == [
        "pacco rotto",
        "rotto arrivo",
        "rotto rimborso",
    ]
