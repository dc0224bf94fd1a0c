package dev.mover.encoder.summarize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mover.encoder.summarize.Summarizer.Budget;
import dev.mover.encoder.summarize.Summarizer.Mode;
import dev.mover.encoder.summarize.Summarizer.Settings;
import dev.mover.encoder.summarize.Summarizer.Summary;
import dev.mover.encoder.summarize.Summarizer.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Selection, ordering and bounds with a deterministic bag-of-words embedding: these tests are about the MMR and
 * packing logic, not about the encoder (the evaluation runs the real one).
 */
class SummarizerTests {

    /** Bag of words: one dimension per distinct lower-cased word (or CJK character) in a fixed vocabulary. */
    static class BagOfWords implements SentenceEmbedder {
        final List<String> vocab = new ArrayList<>();
        final AtomicInteger calls = new AtomicInteger();

        BagOfWords(String... vocabulary) {
            vocab.addAll(List.of(vocabulary));
        }

        @Override
        public float[][] embed(List<String> texts) {
            calls.incrementAndGet();
            float[][] out = new float[texts.size()][vocab.size() + 1];
            for (int t = 0; t < texts.size(); t++) {
                out[t][vocab.size()] = 0.01f; // keeps every vector non-zero
                for (String w : texts.get(t).toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
                    int k = vocab.indexOf(w);
                    if (k >= 0) {
                        out[t][k] += 1;
                    }
                }
            }
            return out;
        }
    }

    private static final String DOC =
        "Cats purr softly. Dogs bark loudly. Cats purr softly again. Cats and dogs play. Birds sing at dawn.";

    private static List<String> texts(Summary s) {
        return s.units().stream().map(Unit::text).collect(Collectors.toList());
    }

    @Test
    void testExtract_whenRedundantUnits_thenMmrSkipsTheDuplicate() {
        Summarizer sum = new Summarizer(new BagOfWords("cats", "purr", "softly", "dogs", "bark", "loudly", "birds", "sing", "play"),
            Settings.DEFAULT);
        Summary s = sum.summarize(DOC, null, Budget.units(2), Mode.EXTRACT);
        assertEquals(2, s.units().size());
        long purr = texts(s).stream().filter(t -> t.contains("purr")).count();
        assertTrue(purr <= 1, "both near-identical cat sentences selected: " + texts(s));
        // lambda = 1 has no redundancy penalty: the two most central units are the two cat sentences
        Summarizer greedy = new Summarizer(new BagOfWords("cats", "purr", "softly", "dogs", "bark", "loudly", "birds", "sing", "play"),
            new Settings(100_000, 4096, 1.0, 0.7, 2, 0.95, 64, 0));
        Summary g = greedy.summarize(DOC, null, Budget.units(2), Mode.EXTRACT);
        assertEquals(2, texts(g).stream().filter(t -> t.contains("purr")).count(), texts(g).toString());
    }

    @Test
    void testExtract_whenSelected_thenDocumentOrderAndExactOffsets() {
        Summarizer sum = new Summarizer(new BagOfWords("cats", "purr", "dogs", "bark", "birds", "sing"), Settings.DEFAULT);
        Summary s = sum.summarize(DOC, "birds", Budget.units(3), Mode.EXTRACT);
        int prev = -1;
        for (Unit u : s.units()) {
            assertTrue(u.span().start() > prev);
            assertEquals(DOC.substring(u.span().start(), u.span().end()), u.text());
            prev = u.span().start();
        }
        assertEquals(5, s.unitsConsidered());
        assertFalse(s.truncated());
    }

    @Test
    void testExtract_whenQueryGiven_thenRelevantUnitSelectedFirst() {
        Summarizer sum = new Summarizer(new BagOfWords("cats", "purr", "softly", "dogs", "bark", "loudly", "birds", "sing", "dawn", "play"),
            Settings.DEFAULT);
        Summary withQuery = sum.summarize(DOC, "When do birds sing?", Budget.units(1), Mode.EXTRACT);
        assertEquals(List.of("Birds sing at dawn."), texts(withQuery));
        Unit top = withQuery.units().get(0);
        assertEquals(0.7 * top.relevance() + 0.3 * top.centrality(), top.score(), 1e-9);
        Summary without = sum.summarize(DOC, null, Budget.units(1), Mode.EXTRACT);
        assertFalse(texts(without).contains("Birds sing at dawn."));
        assertTrue(Double.isNaN(without.units().get(0).relevance()));
    }

    @Test
    void testBudget_whenCharBudget_thenTotalWithinBudgetAndOverflowingUnitsSkipped() {
        Summarizer sum = new Summarizer(new BagOfWords("cats", "dogs", "birds"), Settings.DEFAULT);
        for (Mode mode : Mode.values()) {
            for (int budget : new int[] {10, 20, 40, 60, 200}) {
                Summary s = sum.summarize(DOC, null, Budget.chars(budget), mode);
                int total = s.units().stream().mapToInt(u -> u.span().length()).sum();
                assertTrue(total <= budget, mode + " " + budget + " " + texts(s));
            }
        }
        // lead: both 17-char sentences fit in 36; in 30 the second overflows and the later ones (19+) too
        Summary lead = sum.summarize(DOC, null, Budget.chars(36), Mode.LEAD);
        assertEquals(List.of("Cats purr softly.", "Dogs bark loudly."), texts(lead));
        Summary lead2 = sum.summarize(DOC, null, Budget.chars(30), Mode.LEAD);
        assertEquals(List.of("Cats purr softly."), texts(lead2));
        // a later short unit is packed after an overflowing one is skipped
        Summary lead3 = sum.summarize("Short one. This sentence is much too long to fit. Tiny.", null, Budget.chars(16), Mode.LEAD);
        assertEquals(List.of("Short one.", "Tiny."), texts(lead3));
    }

    @Test
    void testLead_whenUnitBudget_thenFirstKSentencesWithoutEmbedder() {
        Summarizer sum = new Summarizer(null, Settings.DEFAULT);
        Summary s = sum.summarize(DOC, "ignored", Budget.units(2), Mode.LEAD);
        assertEquals(List.of("Cats purr softly.", "Dogs bark loudly."), texts(s));
        assertEquals("Cats purr softly. Dogs bark loudly.", s.text());
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> sum.summarize(DOC, null, Budget.units(2), Mode.EXTRACT));
        assertEquals("[extract] needs an embedder but none was given", e.getMessage());
    }

    @Test
    void testCompressive_whenChineseClauses_thenFusedInOrderAndDuplicatesDropped() {
        String doc = "原告诉称，被告借款十万元，被告借款十万元，至今未还。被告辩称，已经还清。";
        SentenceEmbedder chars = texts -> {
            float[][] out = new float[texts.size()][];
            String alphabet = "原告诉称被借款十万元至今未还辩已经清";
            for (int t = 0; t < texts.size(); t++) {
                out[t] = new float[alphabet.length() + 1];
                out[t][alphabet.length()] = 0.01f;
                for (char c : texts.get(t).toCharArray()) {
                    int k = alphabet.indexOf(c);
                    if (k >= 0) {
                        out[t][k] += 1;
                    }
                }
            }
            return out;
        };
        Summarizer sum = new Summarizer(chars, Settings.DEFAULT);
        Summary s = sum.summarize(doc, null, Budget.units(6), Mode.COMPRESSIVE);
        assertEquals(1, texts(s).stream().filter(t -> t.equals("被告借款十万元，")).count(), texts(s).toString());
        assertTrue(s.units().size() < 6);
        int prev = -1;
        for (Unit u : s.units()) {
            assertTrue(u.span().start() > prev);
            prev = u.span().start();
        }
        assertTrue(s.text().startsWith(texts(s).get(0)));
        assertFalse(s.text().contains(" "), s.text());
    }

    @Test
    void testBounds_whenDocumentLongerThanRead_thenTruncatedAndCutUnitDropped() {
        Summarizer sum = new Summarizer(new BagOfWords("cats", "dogs"), Settings.DEFAULT.withMaxCharsRead(25));
        Summary s = sum.summarize(DOC, null, Budget.units(10), Mode.EXTRACT);
        assertTrue(s.truncated());
        assertEquals(1, s.unitsConsidered()); // "Dogs bark l" was cut by the limit
        Summarizer few = new Summarizer(new BagOfWords("cats", "dogs"), Settings.DEFAULT.withMaxUnits(2));
        Summary f = few.summarize(DOC, null, Budget.units(10), Mode.EXTRACT);
        assertTrue(f.truncated());
        assertEquals(2, f.unitsConsidered());
        assertTrue(f.units().stream().allMatch(u -> u.span().end() <= DOC.indexOf("Cats purr softly again")));
    }

    @Test
    void testBounds_whenTimeBudgetSpent_thenStopsAfterFirstBatch() {
        BagOfWords slow = new BagOfWords("cats", "dogs") {
            @Override
            public float[][] embed(List<String> texts) {
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.embed(texts);
            }
        };
        Settings settings = new Settings(100_000, 4096, 0.7, 0.7, 2, 0.95, 2, 1);
        Summary s = new Summarizer(slow, settings).summarize(DOC, null, Budget.units(5), Mode.EXTRACT);
        assertTrue(s.truncated());
        assertEquals(2, s.unitsConsidered());
        assertEquals(1, slow.calls.get());
    }

    @Test
    void testEmptyAndBadInput_thenEmptySummaryOrClearErrors() {
        Summarizer sum = new Summarizer(new BagOfWords("cats"), Settings.DEFAULT);
        assertTrue(sum.summarize("  \n ", "q", Budget.units(3), Mode.EXTRACT).units().isEmpty());
        assertTrue(sum.summarize(null, null, Budget.units(3), Mode.LEAD).units().isEmpty());
        assertEquals("[budget] needs max_units or max_chars above 0 but both were [0]",
            assertThrows(IllegalArgumentException.class, () -> new Budget(0, 0)).getMessage());
        assertEquals("[max_units] must be in [0, 1000] but was [1001]",
            assertThrows(IllegalArgumentException.class, () -> Budget.units(1001)).getMessage());
        assertEquals("[mode] must be one of [lead, extract, compressive] but was [abstractive]",
            assertThrows(IllegalArgumentException.class, () -> Mode.fromLabel("abstractive")).getMessage());
        Summarizer broken = new Summarizer(texts -> new float[1][3], Settings.DEFAULT);
        assertEquals("[embedder] must return [5] vectors but returned [1]",
            assertThrows(IllegalStateException.class, () -> broken.summarize(DOC, null, Budget.units(2), Mode.EXTRACT)).getMessage());
    }

    @Test
    void testRelevanceScorer_whenGiven_thenReplacesPooledCosineForQueries() {
        BagOfWords emb = new BagOfWords("cats", "purr", "softly", "dogs", "bark", "loudly", "birds", "sing", "dawn", "play");
        // an external scorer that finds only the dog sentences relevant, whatever the query says
        RelevanceScorer dogs = (query, units) -> units.stream().mapToDouble(u -> u.contains("Dogs") ? 1 : 0).toArray();
        Summarizer sum = new Summarizer(emb, dogs, Settings.DEFAULT);
        Summary s = sum.summarize(DOC, "When do birds sing?", Budget.units(1), Mode.EXTRACT);
        assertEquals(List.of("Dogs bark loudly."), texts(s));
        assertEquals(1.0, s.units().get(0).relevance(), 0);
        // without a query the scorer is not used
        Summary none = sum.summarize(DOC, null, Budget.units(1), Mode.EXTRACT);
        assertTrue(Double.isNaN(none.units().get(0).relevance()));
        Summarizer broken = new Summarizer(emb, (q, u) -> new double[1], Settings.DEFAULT);
        assertEquals("[relevance_scorer] must return [5] scores but returned [1]",
            assertThrows(IllegalStateException.class, () -> broken.summarize(DOC, "birds", Budget.units(1), Mode.EXTRACT)).getMessage());
    }
}
