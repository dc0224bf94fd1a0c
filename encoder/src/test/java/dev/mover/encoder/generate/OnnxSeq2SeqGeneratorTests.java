package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mover.encoder.generate.ToySeq2SeqModel.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link OnnxSeq2SeqGenerator} on real ONNX Runtime with {@link ToySeq2SeqModel}, a seq2seq model built here whose
 * correct output is known: it copies its source, optionally with a bigram preference and a coverage penalty that
 * reads the past key values.
 */
class OnnxSeq2SeqGeneratorTests {
    static final Path BASE = Path.of("target", "generate-models");
    private static final long FAR = Long.MAX_VALUE / 4;

    private static OnnxSeq2SeqGenerator load(String name, float copy, float coverage, float[][] bigram, DecodingOptions opt)
        throws IOException {
        Path dir = ToySeq2SeqModel.write(BASE.resolve(name), copy, coverage, bigram, null);
        return OnnxSeq2SeqGenerator.load(dir, opt);
    }

    private static float[][] none() {
        return ToySeq2SeqModel.bigrams();
    }

    private static int[] ids(String words) {
        String[] ws = words.split(" ");
        int[] out = new int[ws.length];
        for (int i = 0; i < ws.length; i++) {
            out[i] = ws[i].equals("eos") ? 1 : id(ws[i]);
        }
        return out;
    }

    private static String text(OnnxSeq2SeqGenerator g, BeamSearch.Hypothesis h) {
        return g.tokenizer().decode(h.tokens(), 0, h.tokens().length);
    }

    private static void assertSorted(List<BeamSearch.Hypothesis> hs) {
        for (int i = 1; i < hs.size(); i++) {
            assertTrue(hs.get(i - 1).score() >= hs.get(i).score(), "hypotheses not sorted: " + hs);
        }
    }

    @Test
    void testGenerate_whenCopyModel_thenSourceReproducedWithEos() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("copy", 10f, 0f, none(), DecodingOptions.DEFAULT)) {
            assertTrue(g.usesCache());
            assertEquals(3, g.options().numBeams());
            GenerationResult r = g.generate(new GenerationRequest(List.of("the cat sat", "on the mat"), "where is the cat?",
                "en", 20, 30_000));
            assertEquals("the cat sat on the mat", r.text());
            assertEquals("onnx_seq2seq", r.generator());
            assertEquals(GenerationResult.StopReason.END, r.stopReason());
            assertEquals(List.of(), r.warnings());
            assertEquals(7, r.tokens(), "six words and </s>");
            assertTrue(r.allSupported());

            int[] src = g.tokenizer().encode("the cat sat on the mat", true);
            assertArrayEquals(ids("the cat sat on the mat eos"), src, "the tokenizer appends </s>");
            BeamSearch.Outcome out = g.decode(src, DecodingOptions.DEFAULT, 20, FAR);
            assertArrayEquals(src, out.best().tokens());
            assertTrue(out.best().ended());
            assertEquals(3, out.hypotheses().size(), out.hypotheses().toString());
            assertSorted(out.hypotheses());
            // 7 steps reach </s>; the search goes on until 3 hypotheses have ended (the alternatives end one step
            // later, the copy position being clamped to the source's </s>), not to the 20-token limit
            assertEquals(8, out.steps());
        }
    }

    @Test
    void testDecode_whenPastCarriesCoverage_thenCachedEqualsUncachedAndBeamsReordered() throws Exception {
        float[][] w = ToySeq2SeqModel.bigrams("on", "dog", 0.5);
        Path dir = ToySeq2SeqModel.write(BASE.resolve("coverage"), 3f, 4f, w, null);
        Path noCache = ToySeq2SeqModel.write(BASE.resolve("coverage-nocache"), 3f, 4f, w, null);
        ObjectNode d = (ObjectNode) TokenizerFixtures.JSON.readTree(noCache.resolve("generator.json").toFile());
        d.put("use_cache", false);
        TokenizerFixtures.write(noCache, "generator.json", d);
        DecodingOptions opt = DecodingOptions.DEFAULT.withCopyBias(0).withNoRepeatNgramSize(0);
        try (OnnxSeq2SeqGenerator cached = OnnxSeq2SeqGenerator.load(dir, opt);
             OnnxSeq2SeqGenerator full = OnnxSeq2SeqGenerator.load(noCache, opt)) {
            assertTrue(cached.usesCache());
            assertFalse(full.usesCache());
            int[] src = cached.tokenizer().encode("the cat sat on the mat", true);
            BeamSearch.Outcome a = cached.decode(src, opt, 20, FAR);
            BeamSearch.Outcome b = full.decode(src, opt, 20, FAR);
            // the coverage penalty (read from the past) turns the second "the" into the bigram's "dog"
            assertEquals("the cat sat on dog mat", text(cached, a.best()));
            assertTrue(a.reorders() > 0, "beams must have been reordered at least once");
            assertEquals(a.hypotheses().size(), b.hypotheses().size());
            for (int i = 0; i < a.hypotheses().size(); i++) {
                assertArrayEquals(b.hypotheses().get(i).tokens(), a.hypotheses().get(i).tokens(), "hypothesis " + i);
                assertEquals(b.hypotheses().get(i).score(), a.hypotheses().get(i).score(), 1e-5, "hypothesis " + i);
            }
            assertSorted(a.hypotheses());
        }
    }

    @Test
    void testDecode_whenRepeatedTrigramInSource_thenBlockedOnlyWithBlocking() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("repeat", 10f, 0f, none(), DecodingOptions.DEFAULT)) {
            int[] src = g.tokenizer().encode("a b c a b c d", true);
            BeamSearch.Outcome off = g.decode(src, DecodingOptions.DEFAULT.withNoRepeatNgramSize(0), 20, FAR);
            assertArrayEquals(src, off.best().tokens(), "without blocking the copy is exact");
            BeamSearch.Outcome on = g.decode(src, DecodingOptions.DEFAULT, 20, FAR);
            int[] t = on.best().tokens();
            assertFalse(Arrays.equals(src, t), "the second 'a b c' must be blocked");
            Set<String> trigrams = new HashSet<>();
            for (int i = 0; i + 2 < t.length; i++) {
                assertTrue(trigrams.add(t[i] + " " + t[i + 1] + " " + t[i + 2]), "repeated trigram in " + Arrays.toString(t));
            }
            assertArrayEquals(ids("a b c a b"), Arrays.copyOf(t, 5), "the copy goes on up to the blocked token");
            assertNotEquals(id("c"), t[5]);
            assertEquals(id("d"), t[t.length - 2], "then the copy resumes at the source position");
        }
    }

    @Test
    void testDecode_whenModelPrefersNonSourceWord_thenCopyBiasRestoresTheSourcePhrase() throws Exception {
        float[][] w = ToySeq2SeqModel.bigrams("the", "dog", 3);
        try (OnnxSeq2SeqGenerator g = load("copybias", 2f, 0f, w, DecodingOptions.DEFAULT)) {
            GenerationRequest req = new GenerationRequest(List.of("the cat sat"), null, null, 20, 30_000);
            GenerationResult without = g.generate(req, DecodingOptions.DEFAULT.withCopyBias(0));
            assertEquals("the dog sat", without.text());
            assertFalse(without.allSupported(), "'the dog' is not in the source: " + without.sentences());
            GenerationResult with = g.generate(req, DecodingOptions.DEFAULT.withCopyBias(2));
            assertEquals("the cat sat", with.text());
            assertTrue(with.allSupported());
        }
    }

    /** Start -> a (logit 2) or b (1.6); a -> c (0.5, else flat); b -> eos (5); c -> eos (5). */
    private static float[][] trap() {
        return ToySeq2SeqModel.bigrams("start", "a", 2.0, "start", "b", 1.6, "a", "c", 0.5, "b", "eos", 5, "c", "eos", 5);
    }

    /** log p of each token under the sparse softmax over the row's top-k logits (-inf outside). */
    private static double[] sparseLogSoftmax(float[] row, int k) {
        float[] sorted = row.clone();
        Arrays.sort(sorted);
        double max = sorted[sorted.length - 1];
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += Math.exp(sorted[sorted.length - 1 - i] - max);
        }
        double lse = max + Math.log(s);
        float kth = sorted[sorted.length - k];
        double[] out = new double[row.length];
        for (int t = 0; t < row.length; t++) {
            out[t] = row[t] >= kth ? row[t] - lse : Double.NEGATIVE_INFINITY;
        }
        return out;
    }

    @Test
    void testDecode_whenGreedyIsTrapped_thenBeamFindsTheExhaustiveOptimum() throws Exception {
        float[][] w = trap();
        DecodingOptions beam = DecodingOptions.DEFAULT.withCopyBias(0).withNoRepeatNgramSize(0);
        try (OnnxSeq2SeqGenerator g = load("trap", 0f, 0f, w, beam)) {
            int[] src = g.tokenizer().encode("x y z", true);
            BeamSearch.Outcome greedy = g.decode(src, beam.withNumBeams(1), 10, FAR);
            BeamSearch.Outcome b3 = g.decode(src, beam, 10, FAR);
            BeamSearch.Outcome topOne = g.decode(src, beam.withTopK(1), 10, FAR);
            assertArrayEquals(ids("a c eos"), greedy.best().tokens());
            assertArrayEquals(ids("b eos"), b3.best().tokens());
            assertArrayEquals(ids("a c eos"), topOne.best().tokens(), "top-1 sparse softmax leaves only the greedy path");
            assertSorted(b3.hypotheses());

            // exhaustive search over all sequences of up to 4 tokens ending in eos, same scoring
            double[][] logp = new double[ToySeq2SeqModel.V][];
            for (int t = 0; t < ToySeq2SeqModel.V; t++) {
                logp[t] = sparseLogSoftmax(w[t], 10);
            }
            double best = Double.NEGATIVE_INFINITY;
            List<Integer> bestSeq = null;
            List<List<Integer>> frontier = new ArrayList<>(List.of(List.of(0)));
            List<Double> sums = new ArrayList<>(List.of(0.0));
            for (int len = 1; len <= 4; len++) {
                List<List<Integer>> next = new ArrayList<>();
                List<Double> nextSums = new ArrayList<>();
                for (int f = 0; f < frontier.size(); f++) {
                    List<Integer> seq = frontier.get(f);
                    double[] lp = logp[seq.get(seq.size() - 1)];
                    for (int t = 0; t < ToySeq2SeqModel.V; t++) {
                        if (lp[t] == Double.NEGATIVE_INFINITY) {
                            continue;
                        }
                        double sum = sums.get(f) + lp[t];
                        List<Integer> s = new ArrayList<>(seq);
                        s.add(t);
                        if (t == 1) {
                            if (sum / len > best) {
                                best = sum / len;
                                bestSeq = s;
                            }
                        } else {
                            next.add(s);
                            nextSums.add(sum);
                        }
                    }
                }
                frontier = next;
                sums = nextSums;
            }
            assertEquals(List.of(0, id("b"), 1), bestSeq);
            assertEquals(best, b3.best().score(), 1e-5, "beam score = sum of sparse-softmax log-probs / length");
            double greedyScore = (logp[0][id("a")] + logp[id("a")][id("c")] + logp[id("c")][1]) / 3;
            assertEquals(greedyScore, greedy.best().score(), 1e-5);
            assertTrue(best > greedyScore);
        }
    }

    @Test
    void testGenerate_whenCalledFromManyThreads_thenEachCallGetsItsOwnState() throws Exception {
        float[][] w = ToySeq2SeqModel.bigrams("on", "dog", 0.5);
        try (OnnxSeq2SeqGenerator g = load("concurrent", 3f, 4f, w, DecodingOptions.DEFAULT.withCopyBias(0))) {
            List<String> sources = List.of("the cat sat on the mat", "a b c d", "the dog sat on a mat", "x y z");
            List<String> expected = new ArrayList<>();
            for (String src : sources) {
                expected.add(g.generate(new GenerationRequest(List.of(src), null, null, 20, 30_000)).text());
            }
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<String>> futures = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    String src = sources.get(i % sources.size());
                    futures.add(pool.submit(() -> g.generate(new GenerationRequest(List.of(src), null, null, 20, 30_000)).text()));
                }
                for (int i = 0; i < futures.size(); i++) {
                    assertEquals(expected.get(i % sources.size()), futures.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS),
                        "call " + i);
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals("the cat sat on dog mat", expected.get(0));
        }
    }

    @Test
    void testGenerate_whenMaxNewTokensReached_thenCutWithWarning() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("copy-limit", 10f, 0f, none(), DecodingOptions.DEFAULT)) {
            GenerationResult r = g.generate(new GenerationRequest(List.of("the cat sat on the mat"), null, null, 3, 30_000));
            assertEquals("the cat sat", r.text());
            assertEquals(GenerationResult.StopReason.MAX_TOKENS, r.stopReason());
            assertEquals(List.of("[onnx_seq2seq] stopped at [max_new_tokens=3] before the end token"), r.warnings());
        }
    }

    @Test
    void testGenerate_whenTimeBudgetRunsOut_thenBestPrefixWithWarning() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("copy-time", 10f, 0f, none(), DecodingOptions.DEFAULT)) {
            AtomicLong now = new AtomicLong();
            g.clock(() -> now.addAndGet(1_000_000));
            g.watchdogGrace(60_000); // this test is about the step clock, not the watchdog // every look at the clock costs 1 ms
            GenerationResult r = g.generate(new GenerationRequest(List.of("the cat sat on the mat"), null, null, 20, 4));
            assertEquals(GenerationResult.StopReason.TIME, r.stopReason());
            assertTrue(r.tokens() >= 1 && r.tokens() < 6, "tokens " + r.tokens());
            assertTrue("the cat sat on the mat".startsWith(r.text()), r.text());
            assertEquals(1, r.warnings().size());
            assertTrue(r.warnings().get(0).startsWith("[onnx_seq2seq] time budget [4ms] ran out after ["), r.warnings().toString());
        }
    }

    @Test
    void testGenerate_whenStepClockNeverAdvances_thenWatchdogTerminatesTheRun() throws Exception {
        // a model that never ends (eos far down, "z" preferred everywhere) and a step clock frozen at 0, so only the
        // watchdog (real time) can stop it before 4,096 tokens
        Object[] triples = new Object[ToySeq2SeqModel.V * 6];
        for (int t = 0; t < ToySeq2SeqModel.V; t++) {
            String from = t == 0 ? "start" : t < 3 ? "z" : ToySeq2SeqModel.VOCAB.get(t).substring(1);
            triples[t * 6] = from;
            triples[t * 6 + 1] = "z";
            triples[t * 6 + 2] = 1;
            triples[t * 6 + 3] = from;
            triples[t * 6 + 4] = "eos";
            triples[t * 6 + 5] = -100;
        }
        Path dir = ToySeq2SeqModel.write(BASE.resolve("endless"), 0f, 0f, ToySeq2SeqModel.bigrams(triples), null);
        ObjectNode d = (ObjectNode) TokenizerFixtures.JSON.readTree(dir.resolve("generator.json").toFile());
        d.put("max_length", 4096);
        TokenizerFixtures.write(dir, "generator.json", d);
        try (OnnxSeq2SeqGenerator g = OnnxSeq2SeqGenerator.load(dir, DecodingOptions.DEFAULT.withNoRepeatNgramSize(0))) {
            g.clock(() -> 0L);
            long t0 = System.nanoTime();
            GenerationResult r = g.generate(new GenerationRequest(List.of("the cat"), null, null, 4096, 200));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(GenerationResult.StopReason.TIME, r.stopReason(), "tokens " + r.tokens() + " in " + ms + "ms");
            assertTrue(r.tokens() > 0 && r.tokens() < 4096, "tokens " + r.tokens());
            assertTrue(r.text().startsWith("z z z"), r.text());
            assertTrue(ms < 10_000, "took " + ms + "ms");
            System.out.printf("watchdog stopped the endless model after [%d] tokens, [%d] ms (budget 200 ms)%n", r.tokens(), ms);
        }
    }

    @Test
    void testGenerate_whenBudgetGoneBeforeFirstToken_thenTimeoutError() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("copy-time0", 10f, 0f, none(), DecodingOptions.DEFAULT)) {
            AtomicLong now = new AtomicLong();
            g.clock(() -> now.addAndGet(1_000_000));
            g.watchdogGrace(60_000); // this test is about the step clock, not the watchdog
            GenerationException e = assertThrows(GenerationException.class,
                () -> g.generate(new GenerationRequest(List.of("the cat sat"), null, null, 20, 1)));
            assertTrue(e.isTimeout());
            assertEquals("[onnx_seq2seq] time budget [1ms] ran out before the first token was generated", e.getMessage());
        }
    }

    @Test
    void testGenerate_whenSourceLongerThanMaxSourceTokens_thenCutWithWarning() throws Exception {
        try (OnnxSeq2SeqGenerator g = load("copy-long", 10f, 0f, none(), DecodingOptions.DEFAULT.withNoRepeatNgramSize(0))) {
            List<String> units = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                units.add("the cat sat on the mat");
            }
            GenerationResult r = g.generate(new GenerationRequest(units, null, null, 5, 30_000));
            assertEquals(List.of("[onnx_seq2seq] source cut from [121] to [max_source_tokens=64] tokens",
                "[onnx_seq2seq] stopped at [max_new_tokens=5] before the end token"), r.warnings());
            assertEquals("the cat sat on the", r.text());
        }
    }

    @Test
    void testLoad_whenOnlyHuggingFaceConfigs_thenDescriptorDerivedAndModelRuns() throws Exception {
        Path dir = ToySeq2SeqModel.write(BASE.resolve("hf-config"), 10f, 0f, none(), null);
        Files.delete(dir.resolve("generator.json"));
        // T5-style config.json and a generation_config.json, as an Optimum export carries them
        TokenizerFixtures.write(dir, "config.json", (ObjectNode) TokenizerFixtures.JSON.readTree(
            "{\"model_type\": \"t5\", \"num_layers\": 2, \"num_decoder_layers\": 2, \"num_heads\": 2, \"d_model\": 16,"
                + " \"eos_token_id\": 1, \"pad_token_id\": 0, \"decoder_start_token_id\": 0,"
                + " \"task_specific_params\": {\"summarization\": {\"prefix\": \"\", \"max_length\": 200}}}"));
        TokenizerFixtures.write(dir, "generation_config.json", (ObjectNode) TokenizerFixtures.JSON.readTree(
            "{\"max_length\": 24, \"no_repeat_ngram_size\": 0, \"length_penalty\": 0.8, \"min_length\": 2}"));
        try (OnnxSeq2SeqGenerator g = OnnxSeq2SeqGenerator.load(dir)) {
            OnnxSeq2SeqGenerator.Descriptor d = g.descriptor();
            assertEquals(2, d.numLayers());
            assertEquals(2, d.numHeads());
            assertEquals(1, d.eosTokenId());
            assertEquals(0, d.decoderStartTokenId());
            assertEquals(24, d.maxLength());
            assertEquals(new DecodingOptions(3, 10, 1.0, 0, 0.8, 2), g.options());
            GenerationResult r = g.generate(new GenerationRequest(List.of("a b c a b c d"), null, null, 30, 30_000));
            assertEquals("a b c a b c d", r.text(), "no_repeat_ngram_size 0 from generation_config.json");
        }
        // BART-style keys
        JsonNode bart = OnnxSeq2SeqGenerator.fromHfConfig(TokenizerFixtures.JSON.readTree(
            "{\"decoder_layers\": 6, \"decoder_attention_heads\": 12, \"encoder_layers\": 12, \"eos_token_id\": 2,"
                + " \"pad_token_id\": 1, \"decoder_start_token_id\": 2, \"max_position_embeddings\": 1024,"
                + " \"no_repeat_ngram_size\": 3, \"max_length\": 142}"), null);
        OnnxSeq2SeqGenerator.Descriptor d = OnnxSeq2SeqGenerator.readDescriptor(bart, "config.json", "x");
        assertEquals(new OnnxSeq2SeqGenerator.Descriptor(1, 2, 2, 6, 12, 142, 1024, true, "", 1,
            new DecodingOptions(3, 10, 1.0, 3, 1.0, 0)), d);
    }

    @Test
    void testLoad_whenFileMissingOrLayersWrong_thenClearMessage() throws Exception {
        Path dir = ToySeq2SeqModel.write(BASE.resolve("broken"), 10f, 0f, none(), null);
        Files.delete(dir.resolve("decoder_model.onnx"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxSeq2SeqGenerator.load(dir));
        assertEquals("[onnx_seq2seq] model [" + dir.toAbsolutePath().normalize() + "] is missing [decoder_model.onnx]", e.getMessage());

        Path dir2 = ToySeq2SeqModel.write(BASE.resolve("layers"), 10f, 0f, none(), null);
        ObjectNode d = (ObjectNode) TokenizerFixtures.JSON.readTree(dir2.resolve("generator.json").toFile());
        d.put("num_layers", 3);
        TokenizerFixtures.write(dir2, "generator.json", d);
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> OnnxSeq2SeqGenerator.load(dir2));
        assertTrue(e2.getMessage().contains("decoder_with_past_model.onnx must take [6] decoder past inputs (2 x num_layers [3]) but takes [4]"),
            e2.getMessage());

        d.put("num_layers", 2);
        d.putObject("decoding").put("top_k", 0);
        TokenizerFixtures.write(dir2, "generator.json", d);
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> OnnxSeq2SeqGenerator.load(dir2));
        assertTrue(e3.getMessage().endsWith("[generator.json] decoding: [top_k] must be in [1, 1000] but was [0]"), e3.getMessage());
    }
}
