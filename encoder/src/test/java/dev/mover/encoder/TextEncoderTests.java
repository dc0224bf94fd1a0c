package dev.mover.encoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.mover.encoder.tokenize.BertTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextEncoderTests {
    private static TextEncoder minilm;
    private static TextEncoder bge;

    @BeforeAll
    static void open() {
        minilm = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.defaults());
        bge = TextEncoder.open(TestModels.model(TestModels.BGE), EncoderConfig.defaults());
    }

    @AfterAll
    static void close() {
        minilm.close();
        bge.close();
    }

    /** Raw ONNX output [L, dims] for [CLS] ids [SEP], straight from a bare session. */
    static float[][] rawOutput(ModelDescriptor model, int[] contentIds, BertTokenizer tok) throws Exception {
        OrtEnvironment env = OrtRuntime.environment();
        int l = contentIds.length + 2;
        long[][] ids = new long[1][l];
        long[][] mask = new long[1][l];
        long[][] types = new long[1][l];
        ids[0][0] = tok.clsId();
        for (int i = 0; i < contentIds.length; i++) {
            ids[0][i + 1] = contentIds[i];
        }
        ids[0][l - 1] = tok.sepId();
        Arrays.fill(mask[0], 1);
        try (OrtSession s = env.createSession(model.onnxPath().toString(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put("input_ids", OnnxTensor.createTensor(env, ids));
            in.put("attention_mask", OnnxTensor.createTensor(env, mask));
            in.put("token_type_ids", OnnxTensor.createTensor(env, types));
            try (OrtSession.Result r = s.run(in)) {
                float[][][] out = (float[][][]) r.get(0).getValue();
                return out[0];
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
    }

    static float[] referencePooling(float[][] rows, ModelDescriptor.Pooling pooling) {
        int dims = rows[0].length;
        double[] acc = new double[dims];
        if (pooling == ModelDescriptor.Pooling.CLS) {
            for (int d = 0; d < dims; d++) {
                acc[d] = rows[0][d];
            }
        } else {
            for (float[] row : rows) {
                for (int d = 0; d < dims; d++) {
                    acc[d] += row[d];
                }
            }
            for (int d = 0; d < dims; d++) {
                acc[d] /= rows.length;
            }
        }
        double norm = 0;
        for (double v : acc) {
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        float[] out = new float[dims];
        for (int d = 0; d < dims; d++) {
            out[d] = (float) (acc[d] / norm);
        }
        return out;
    }

    private static void checkAgainstRaw(TextEncoder enc, String text) throws Exception {
        EncodedText t = enc.encode(text);
        BertTokenizer tok = BertTokenizer.load(enc.model().tokenizerPath());
        float[][] raw = rawOutput(enc.model(), t.ids(), tok);
        assertEquals(t.tokens() + 2, raw.length);
        float[] ref = referencePooling(raw, enc.model().pooling());
        assertEquals(enc.model().dims(), t.pooled().length);
        assertTrue(maxAbsDiff(ref, t.pooled()) <= 1e-5, "pooled differs by " + maxAbsDiff(ref, t.pooled()));
        for (int i = 0; i < t.tokens(); i++) {
            float[] row = Arrays.copyOfRange(t.vectors(), i * t.dims(), (i + 1) * t.dims());
            assertTrue(maxAbsDiff(raw[i + 1], row) <= 1e-5, "token " + i + " differs by " + maxAbsDiff(raw[i + 1], row));
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void testPooled_whenMiniLm_thenEqualsMeanOfRawOutputIncludingSpecials() throws Exception {
        checkAgainstRaw(minilm, "A man with a hard hat is dancing.");
        checkAgainstRaw(minilm, "Résumé of the naïve café owner: 3.5 stars!");
    }

    @Test
    void testPooled_whenBge_thenEqualsClsOfRawOutput() throws Exception {
        checkAgainstRaw(bge, "一个戴着安全帽的男人在跳舞。");
        checkAgainstRaw(bge, "花呗可以用来还信用卡吗 ATM 2024");
    }

    @Test
    void testEncode_whenSimilarSentences_thenPooledCosineHigherThanUnrelated() {
        List<EncodedText> r = minilm.encodeBatch(List.of("A man is playing a guitar.", "A man plays the guitar.",
            "The stock market fell sharply today."));
        double close = dot(r.get(0).pooled(), r.get(1).pooled());
        double far = dot(r.get(0).pooled(), r.get(2).pooled());
        assertTrue(close > 0.8, "close " + close);
        assertTrue(far < 0.3, "far " + far);
        assertEquals(1.0, dot(r.get(0).pooled(), r.get(0).pooled()), 1e-5);
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void testEncodeBatch_whenMixedLengths_thenSameAsOneByOne() {
        List<String> texts = new ArrayList<>();
        texts.add("Short.");
        texts.add("");
        texts.add("A considerably longer sentence, with several clauses, that pads the shorter ones in its batch.");
        texts.add("Medium length sentence here.");
        texts.add("   \t\n ");
        texts.add("Another one.");
        List<EncodedText> batch = minilm.encodeBatch(texts);
        assertEquals(texts.size(), batch.size());
        for (int i = 0; i < texts.size(); i++) {
            EncodedText one = minilm.encode(texts.get(i));
            EncodedText b = batch.get(i);
            assertArrayEquals(one.ids(), b.ids());
            assertArrayEquals(one.starts(), b.starts());
            assertArrayEquals(one.ends(), b.ends());
            assertTrue(maxAbsDiff(one.vectors(), b.vectors()) <= 1e-4, "text " + i);
            assertTrue(maxAbsDiff(one.pooled(), b.pooled()) <= 1e-4, "text " + i);
        }
    }

    @Test
    void testEncode_whenEmptyOrWhitespace_thenZeroTokensAndZeroPooled() {
        for (String s : new String[] {"", " ", "\t\n\r  ", "\u0000\u200B"}) {
            EncodedText t = minilm.encode(s);
            assertEquals(0, t.tokens(), "[" + s + "]");
            assertEquals(0, t.vectors().length);
            assertEquals(384, t.pooled().length);
            for (float v : t.pooled()) {
                assertEquals(0f, v);
            }
            assertFalse(t.truncated());
        }
    }

    @Test
    void testEncode_whenLoneSurrogates_thenDroppedAndOffsetsExact() {
        String text = "ab\uD800cd \uDC00ef \uD83D\uDE00";
        EncodedText t = minilm.encode(text);
        EncodedText ref = minilm.encode("ab\uFFFDcd \uFFFDef \uD83D\uDE00");
        assertArrayEquals(ref.ids(), t.ids());
        assertArrayEquals(ref.starts(), t.starts());
        assertArrayEquals(ref.ends(), t.ends());
        for (int i = 0; i < t.tokens(); i++) {
            assertTrue(t.starts()[i] >= 0 && t.ends()[i] <= text.length() && t.starts()[i] < t.ends()[i]);
        }
        // "ab" + lone surrogate + "cd" is one word once the surrogate is dropped: it spans all five chars
        assertEquals(0, t.starts()[0]);
    }

    @Test
    void testEncode_whenKeepSpecialTokens_thenClsAndSepAround() {
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM),
            EncoderConfig.builder().keepSpecialTokens(true).build())) {
            String text = "Hello world";
            EncodedText t = enc.encode(text);
            EncodedText plain = minilm.encode(text);
            assertEquals(plain.tokens() + 2, t.tokens());
            assertEquals(101, t.ids()[0]);
            assertEquals(102, t.ids()[t.tokens() - 1]);
            assertEquals(0, t.starts()[0]);
            assertEquals(0, t.ends()[0]);
            assertEquals(text.length(), t.starts()[t.tokens() - 1]);
            assertEquals(text.length(), t.ends()[t.tokens() - 1]);
            float[] inner = Arrays.copyOfRange(t.vectors(), 384, (t.tokens() - 1) * 384);
            assertTrue(maxAbsDiff(plain.vectors(), inner) <= 1e-5);
            assertArrayEquals(plain.pooled(), t.pooled(), 1e-6f);
        }
    }

    static String longText(int minTokens, BertTokenizer tok) throws Exception {
        StringBuilder sb = new StringBuilder();
        List<String> lines = Files.readAllLines(TestModels.dataDir().resolve("sts-en/stsb-dev.tsv"));
        for (int i = 1; i < lines.size(); i++) {
            sb.append(lines.get(i).split("\t")[6]).append(' ');
            if (i % 20 == 0 && tok.tokenize(sb.toString()).size() >= minTokens) {
                break;
            }
        }
        return sb.toString();
    }

    @Test
    void testOverflow_whenErrorSetting_thenThrowsWithCounts() throws Exception {
        BertTokenizer tok = BertTokenizer.load(minilm.model().tokenizerPath());
        String text = longText(700, tok);
        int n = tok.tokenize(text).size();
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.builder()
            .maxTokens(600).onOverflow(EncoderConfig.Overflow.ERROR).build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enc.encode(text));
            assertEquals("[mover] text [0] has more than [600] tokens, the limit of model ["
                + TestModels.MINILM + "] with long_text [windows]", e.getMessage());
            assertTrue(n > 600);
        }
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.builder()
            .maxTokens(600).build())) {
            EncodedText t = enc.encode(text);
            assertEquals(600, t.tokens());
            assertTrue(t.truncated());
            assertArrayEquals(Arrays.copyOf(tok.tokenize(text).starts(), 600), t.starts());
        }
    }

    @Test
    void testTruncate_whenLongText_thenFirst510TokensFlagged() throws Exception {
        BertTokenizer tok = BertTokenizer.load(minilm.model().tokenizerPath());
        String text = longText(700, tok);
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.builder()
            .longText(EncoderConfig.LongText.TRUNCATE).build())) {
            EncodedText t = enc.encode(text);
            assertEquals(510, t.tokens());
            assertTrue(t.truncated());
        }
    }

    @Test
    void testWindows_whenLongText_thenOffsetsExactAndEdgesFromTheRightWindow() throws Exception {
        BertTokenizer tok = BertTokenizer.load(minilm.model().tokenizerPath());
        String text = longText(1300, tok);
        BertTokenizer.Tokens all = tok.tokenize(text);
        int n = all.size();
        EncodedText w = minilm.encode(text); // defaults: windows, overlap 128
        assertEquals(n, w.tokens());
        assertFalse(w.truncated());
        assertArrayEquals(all.ids(), w.ids());
        assertArrayEquals(all.starts(), w.starts());
        assertArrayEquals(all.ends(), w.ends());
        EncodedText first;
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.builder()
            .longText(EncoderConfig.LongText.TRUNCATE).build())) {
            first = enc.encode(text);
        }
        // Window 0 covers [0, 510), window 1 starts at 382: tokens below the middle of the overlap (446) come from
        // window 0, exactly the truncated pass; tokens above it come from window 1 and differ.
        int dims = 384;
        float[] a = Arrays.copyOf(w.vectors(), 446 * dims);
        float[] b = Arrays.copyOf(first.vectors(), 446 * dims);
        assertTrue(maxAbsDiff(a, b) <= 1e-4, "window 0 rows differ by " + maxAbsDiff(a, b));
        float[] a2 = Arrays.copyOfRange(w.vectors(), 447 * dims, 510 * dims);
        float[] b2 = Arrays.copyOfRange(first.vectors(), 447 * dims, 510 * dims);
        assertTrue(maxAbsDiff(a2, b2) > 1e-3, "rows past the overlap middle should come from window 1");
        double norm = dot(w.pooled(), w.pooled());
        assertEquals(1.0, norm, 1e-5);
    }

    @Test
    void testWindows_whenKeepSpecialTokens_thenClsFromFirstWindowAndSepAtTheEnd() throws Exception {
        BertTokenizer tok = BertTokenizer.load(minilm.model().tokenizerPath());
        String text = longText(900, tok);
        EncodedText w;
        EncodedText first;
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM),
                 EncoderConfig.builder().keepSpecialTokens(true).build());
             TextEncoder trunc = TextEncoder.open(TestModels.model(TestModels.MINILM),
                 EncoderConfig.builder().keepSpecialTokens(true).longText(EncoderConfig.LongText.TRUNCATE).build())) {
            w = enc.encode(text);
            first = trunc.encode(text);
        }
        int n = tok.tokenize(text).size();
        assertEquals(n + 2, w.tokens());
        assertEquals(101, w.ids()[0]);
        assertEquals(102, w.ids()[n + 1]);
        assertEquals(text.length(), w.starts()[n + 1]);
        float[] cls = Arrays.copyOf(w.vectors(), 384);
        float[] cls0 = Arrays.copyOf(first.vectors(), 384);
        assertTrue(maxAbsDiff(cls, cls0) <= 1e-4, "CLS row should come from the first window");
        float[] sep = Arrays.copyOfRange(w.vectors(), (n + 1) * 384, (n + 2) * 384);
        float[] sep0 = Arrays.copyOfRange(first.vectors(), 511 * 384, 512 * 384);
        assertTrue(maxAbsDiff(sep, sep0) > 1e-3, "SEP row should come from the last window, not the first");
    }

    @Test
    void testOpen_whenMissingFiles_thenErrorNamesModelAndFile() throws Exception {
        Path dir = Files.createTempDirectory("mover-model");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TextEncoder.open(dir, EncoderConfig.defaults()));
            assertTrue(e.getMessage().contains("missing its descriptor [model.json]"), e.getMessage());
            Files.writeString(dir.resolve("model.json"), "{\"name\":\"mine\",\"onnx\":\"m.onnx\",\"tokenizer\":\"t.json\","
                + "\"dims\":384,\"max_positions\":512,\"pooling\":\"mean\"}");
            e = assertThrows(IllegalArgumentException.class, () -> TextEncoder.open(dir, EncoderConfig.defaults()));
            assertEquals("[mover] model [mine] in [" + dir + "] is invalid: missing onnx file [m.onnx]; "
                + "missing tokenizer file [t.json]", e.getMessage());
            Files.writeString(dir.resolve("model.json"), "{\"name\":\"mine\",\"onnx\":\"m.onnx\",\"tokenizer\":\"t.json\","
                + "\"dims\":0,\"max_positions\":512,\"pooling\":\"max\"}");
            e = assertThrows(IllegalArgumentException.class, () -> TextEncoder.open(dir, EncoderConfig.defaults()));
            assertTrue(e.getMessage().contains("field [dims] must be an integer in [1, 65536] but was [0]"), e.getMessage());
            assertTrue(e.getMessage().contains("field [pooling] must be one of [mean, cls] but was [max]"), e.getMessage());
            Files.writeString(dir.resolve("model.json"), "{not json");
            e = assertThrows(IllegalArgumentException.class, () -> TextEncoder.open(dir, EncoderConfig.defaults()));
            assertTrue(e.getMessage().startsWith("[mover] model [" + dir.getFileName() + "] has a malformed [model.json]"),
                e.getMessage());
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Test
    void testEncode_whenManyThreadsShareOneEncoder_thenSameResults() throws Exception {
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(TestModels.dataDir().resolve("sts-en/stsb-dev.tsv")).subList(1, 41)) {
            texts.add(line.split("\t")[6]);
        }
        List<EncodedText> expected = minilm.encodeBatch(texts);
        int threads = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<List<EncodedText>>> futures = new ArrayList<>();
            for (int k = 0; k < threads * 2; k++) {
                int shift = k;
                futures.add(pool.submit(() -> {
                    List<EncodedText> out = new ArrayList<>();
                    for (int i = 0; i < texts.size(); i += 5) {
                        List<String> chunk = new ArrayList<>();
                        for (int j = i; j < Math.min(texts.size(), i + 5); j++) {
                            chunk.add(texts.get((j + shift * 5) % texts.size()));
                        }
                        out.addAll(minilm.encodeBatch(chunk));
                    }
                    return out;
                }));
            }
            for (int k = 0; k < futures.size(); k++) {
                List<EncodedText> got = futures.get(k).get();
                for (int i = 0; i < texts.size(); i++) {
                    EncodedText want = expected.get((i + k * 5) % texts.size());
                    assertArrayEquals(want.ids(), got.get(i).ids());
                    assertTrue(maxAbsDiff(want.vectors(), got.get(i).vectors()) <= 1e-4, "thread " + k + " text " + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void testOpen_whenLowercaseDisagreesWithTokenizer_thenNamedError() throws Exception {
        Path src = TestModels.model(TestModels.BGE);
        Path dir = Files.createTempDirectory("mover-model");
        try {
            ModelDescriptor d = ModelDescriptor.load(src);
            Files.createSymbolicLink(dir.resolve(d.onnxFile()), d.onnxPath().toAbsolutePath());
            Files.createSymbolicLink(dir.resolve(d.tokenizerFile()), d.tokenizerPath().toAbsolutePath());
            Files.writeString(dir.resolve("model.json"), Files.readString(src.resolve("model.json"))
                .replace("\"lowercase\": false", "\"lowercase\": true"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TextEncoder.open(dir, EncoderConfig.defaults()));
            assertEquals("[mover] model [bge-small-zh-v15] declares lowercase [true] but its tokenizer "
                + "[bge-small-zh-v1.5-tokenizer.json] has lowercase [false]", e.getMessage());
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Test
    void testFingerprint_whenReopened_thenStableAndDiffersAcrossModels() {
        try (TextEncoder again = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.defaults())) {
            assertEquals(minilm.fingerprint(), again.fingerprint());
        }
        assertTrue(minilm.fingerprint() != bge.fingerprint());
    }

    @Test
    void testClose_whenClosed_thenEncodeFails() {
        TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.BGE), EncoderConfig.defaults());
        enc.close();
        enc.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> enc.encode("x"));
        assertEquals("[mover] encoder of model [bge-small-zh-v15] is closed", e.getMessage());
    }

    @Test
    void testRegistry_whenModelsNamed_thenOpenedLazilyAndClosedTogether() {
        Map<String, Path> dirs = new HashMap<>();
        dirs.put("en", TestModels.model(TestModels.MINILM));
        dirs.put("zh", TestModels.model(TestModels.BGE));
        ModelRegistry reg = new ModelRegistry(dirs, EncoderConfig.defaults());
        assertTrue(reg.openModels().isEmpty());
        TextEncoder en = reg.get("en");
        assertTrue(en == reg.get("en"));
        assertEquals(List.of("en"), new ArrayList<>(reg.openModels()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> reg.get("fr"));
        assertTrue(e.getMessage().startsWith("[mover] unknown model [fr]"), e.getMessage());
        reg.close();
        assertThrows(IllegalStateException.class, () -> en.encode("x"));
        assertThrows(IllegalStateException.class, () -> reg.get("en"));
    }
}
