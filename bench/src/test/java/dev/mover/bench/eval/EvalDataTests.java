package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.mover.encoder.summarize.Summarizer;
import dev.mover.encoder.text.Span;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layout recognition by header and keys (not file names), on small hand-made files. */
class EvalDataTests {

    @Test
    void testSts_whenHeaderHasSentenceColumns_thenRecognisedWhateverTheName(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("whatever.data");
        Files.writeString(a, "pair_id\trelatedness_score\tentailment_label\tsentence1\tsentence2\n"
            + "1\t4.5\tE\tA dog runs.\tA dog is running.\n2\t1.0\tN\tA cat.\tThe sea.\n");
        StsEval.StsFile f = StsEval.read(a, 0);
        assertEquals("whatever", f.name());
        assertEquals(List.of("A dog runs.", "A cat."), f.s1());
        assertEquals(4.5, f.gold()[0], 0);
        assertEquals(Lang.EN, f.lang());
        Path b = dir.resolve("zh.tsv");
        Files.writeString(b, "id\tsentence1\tsentence2\tlabel\nx-0\t花呗怎么还款\t花呗如何还钱\t1\n");
        assertEquals(Lang.ZH, StsEval.read(b, 0).lang());
        Path c = dir.resolve("other.tsv");
        Files.writeString(c, "query-id\tcorpus-id\tscore\nq\td\t1\n");
        assertNull(StsEval.read(c, 0));
        assertEquals(1, StsEval.read(a, 1).gold().length);
    }

    @Test
    void testSumm_whenLabelledSentences_thenDocumentAndSalientOffsets(@TempDir Path dir) throws Exception {
        Path d = dir.resolve("summ-x");
        Files.createDirectories(d);
        Files.writeString(d.resolve("anything.jsonl"),
            "{\"id\":\"a\",\"summary\":\"原告胜诉。\",\"text\":[{\"sentence\":\"原告诉称。\",\"label\":0},{\"sentence\":\"判决如下。\",\"label\":1}]}\n");
        List<SummData.DataSet> sets = SummData.read(d, 0);
        assertEquals(1, sets.size());
        assertEquals("summ-x/anything", sets.get(0).name());
        SummData.Item it = sets.get(0).items().get(0);
        assertEquals("原告诉称。判决如下。", it.doc());
        assertEquals(List.of(new Span(5, 10)), it.salient());
        assertEquals(Lang.ZH, sets.get(0).lang());
    }

    @Test
    void testSumm_whenTranscriptsAndQueries_thenTurnSpansAsSalient(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("m.jsonl"), "{\"meeting_id\":\"M1\",\"turns\":[{\"speaker\":\"A\",\"content\":\"Hello all .\"},"
            + "{\"speaker\":\"B\",\"content\":\"The budget is fixed .\"},{\"speaker\":\"A\",\"content\":\"Good .\"}]}\n");
        Files.writeString(dir.resolve("q.jsonl"), "{\"id\":\"M1-s0\",\"meeting_id\":\"M1\",\"query\":\"What about the budget?\","
            + "\"answer\":\"It is fixed.\",\"relevant_text_span\":[[\"1\",\"1\"]]}\n"
            + "{\"id\":\"M1-g0\",\"meeting_id\":\"M1\",\"query\":\"Summarize\",\"answer\":\"x\",\"relevant_text_span\":null}\n");
        List<SummData.DataSet> sets = SummData.read(dir, 0);
        assertEquals(1, sets.size());
        SummData.Item it = sets.get(0).items().get(0);
        assertEquals("A: Hello all .\nB: The budget is fixed .\nA: Good .\n", it.doc());
        assertEquals(1, it.salient().size());
        assertEquals("B: The budget is fixed .", it.salient().get(0).text(it.doc()));
        assertEquals("What about the budget?", it.query());
        assertNull(sets.get(0).items().get(1).salient());
    }

    @Test
    void testSumm_whenSegmentsAndMeetings_thenHighlightsMapToDocumentOffsets(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("s.jsonl"),
            "{\"id\":\"1_0\",\"meeting_id\":\"1\",\"discussion\":\"讨论\",\"paragraphs\":[{\"speaker\":1,\"sentences\":[\"甲乙丙。\",\"丁戊。\"],"
                + "\"highlight_spans\":[[[1,3]],[]]},{\"speaker\":2,\"sentences\":[\"己庚。\"],\"highlight_spans\":[[[0,2]]]}]}\n"
                + "{\"id\":\"1_1\",\"meeting_id\":\"1\",\"discussion\":\"二\",\"paragraphs\":[{\"speaker\":1,\"sentences\":[\"辛壬。\"],"
                + "\"highlight_spans\":[[]]}]}\n");
        Files.writeString(dir.resolve("t.jsonl"),
            "{\"meeting_id\":\"1\",\"summary\":\"总结\",\"segment_ids\":[\"1_0\",\"1_1\"],\"segments_cover_transcript\":true}\n");
        List<SummData.DataSet> sets = SummData.read(dir, 0);
        assertEquals(2, sets.size());
        SummData.Item seg = sets.get(0).items().get(0);
        assertEquals("甲乙丙。丁戊。\n己庚。", seg.doc());
        assertEquals("乙丙", seg.salient().get(0).text(seg.doc()));
        assertEquals("己庚", seg.salient().get(1).text(seg.doc()));
        SummData.Item meeting = sets.get(1).items().get(0);
        assertEquals("甲乙丙。丁戊。\n己庚。\n辛壬。", meeting.doc());
        assertEquals("总结", meeting.ref());
        assertEquals(2, meeting.salient().size());
    }

    @Test
    void testCoverage_thenShareOfSalientNonSpaceCharsSelected() {
        String doc = "ab cd. ef gh.";
        Summarizer.Summary s = new Summarizer.Summary(Summarizer.Mode.LEAD, "ab cd.",
            List.of(new Summarizer.Unit(new Span(0, 6), "ab cd.", 1, Double.NaN, Double.NaN)), 2, false);
        // salient: "cd. ef" = c d . e f (5 non-space chars), covered: c d . (3)
        assertEquals(3.0 / 5, SummarizeEval.coverage(doc, List.of(new Span(3, 9)), s), 1e-12);
    }

    @Test
    void testLang_thenThirtyPercentHanRule() {
        assertEquals(Lang.ZH, Lang.detect(List.of("我们 use 中文")));
        assertEquals(Lang.EN, Lang.detect(List.of("mostly english words with 一 char")));
    }

    @Test
    void testRetrieval_whenBeirLayoutUnderOtherNames_thenRecognisedByKeysAndHeader(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.jsonl"), "{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"body\"}\n");
        Files.writeString(dir.resolve("b.jsonl"), "{\"_id\": \"q1\", \"text\": \"question\"}\n");
        Files.writeString(dir.resolve("c.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\n");
        RetrievalEval.Layout l = RetrievalEval.layout(dir);
        assertEquals(dir.resolve("a.jsonl"), l.corpus());
        assertEquals(dir.resolve("b.jsonl"), l.queries());
        assertEquals(dir.resolve("c.tsv"), l.qrels());
        Files.delete(dir.resolve("c.tsv"));
        assertNull(RetrievalEval.layout(dir));
    }
}
