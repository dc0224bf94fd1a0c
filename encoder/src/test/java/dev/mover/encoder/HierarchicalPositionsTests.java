package dev.mover.encoder;

import dev.mover.encoder.tokenize.BertTokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HierarchicalPositionsTests {

    @Test
    void testExtendTable_whenSmallTable_thenMatchesFormulaAndKeepsTrainedRows() {
        int n = 4;
        int dims = 3;
        int m = 16;
        float[] p = new float[n * dims];
        Random r = new Random(9);
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) r.nextGaussian();
        }
        float[] q = PositionExtension.extendTable(p, n, dims, m);
        assertEquals(m * dims, q.length);
        double a = 0.4;
        for (int k = 0; k < m; k++) {
            for (int d = 0; d < dims; d++) {
                double ui = (p[(k / n) * dims + d] - a * p[d]) / (1 - a);
                double uj = (p[(k % n) * dims + d] - a * p[d]) / (1 - a);
                double expected = a * ui + (1 - a) * uj;
                assertEquals(expected, q[k * dims + d], 1e-5, "k=" + k + " d=" + d);
                if (k < n) {
                    assertEquals(p[k * dims + d], q[k * dims + d], 0f);
                }
            }
        }
    }

    @Test
    void testExtend_whenTooManyPositions_thenError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PositionExtension.extend(new byte[0], 4, 17, "tiny"));
        assertEquals("[mover] model [tiny] hierarchical positions are limited to [16] but [17] were asked", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PositionExtension.extend(new byte[] {0x08, 0x06}, 4, 8, "tiny"));
        assertEquals("[mover] model [tiny] ONNX file has no graph", e.getMessage());
    }

    private static void belowTrainedLengthSameAsOriginal(String model) throws Exception {
        EncoderConfig hcfg = EncoderConfig.builder().longText(EncoderConfig.LongText.HIERARCHICAL).maxTokens(2048).build();
        try (TextEncoder plain = TextEncoder.open(TestModels.model(model), EncoderConfig.defaults());
             TextEncoder hier = TextEncoder.open(TestModels.model(model), hcfg)) {
            BertTokenizer tok = ((OnnxTextEncoder) plain).tokenizer();
            String longish = TextEncoderTests.longText(600, tok);
            // cut to about 500 tokens: still one pass of the original model
            int cut = tok.tokenize(longish).ends()[499];
            String[] texts = {"A man with a hard hat is dancing.", "一个戴着安全帽的男人在跳舞。", longish.substring(0, cut)};
            for (String t : texts) {
                EncodedText a = plain.encode(t);
                EncodedText b = hier.encode(t);
                assertEquals(a.tokens(), b.tokens());
                double dv = TextEncoderTests.maxAbsDiff(a.vectors(), b.vectors());
                double dp = TextEncoderTests.maxAbsDiff(a.pooled(), b.pooled());
                System.out.printf("[%s] hierarchical vs original, %d tokens: max abs diff vectors %.2e pooled %.2e%n",
                    model, a.tokens(), dv, dp);
                assertTrue(dv <= 1e-4, "vectors differ by " + dv);
                assertTrue(dp <= 1e-4, "pooled differs by " + dp);
            }
        }
    }

    @Test
    void testHierarchical_whenMiniLmBelow512_thenOriginalOutputs() throws Exception {
        belowTrainedLengthSameAsOriginal(TestModels.MINILM);
    }

    @Test
    void testHierarchical_whenBgeBelow512_thenOriginalOutputs() throws Exception {
        belowTrainedLengthSameAsOriginal(TestModels.BGE);
    }

    /** Fraction of tokens whose hierarchical vector is closer to its own windowed vector than to a shifted one. */
    private static double sameCloser(EncodedText a, EncodedText b, int from, int to, int shift) {
        int wins = 0;
        for (int t = from; t < to; t++) {
            int u = from + (t - from + shift) % (to - from);
            if (cos(a, t, b, t) > cos(a, t, b, u)) {
                wins++;
            }
        }
        return (double) wins / (to - from);
    }

    private static double cos(EncodedText a, int t, EncodedText b, int u) {
        int dims = a.dims();
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int k = 0; k < dims; k++) {
            float x = a.vectors()[t * dims + k];
            float y = b.vectors()[u * dims + k];
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return ab / Math.sqrt(aa * bb);
    }

    private static double meanCosine(EncodedText a, EncodedText b, int from, int to, int shift) {
        double sum = 0;
        int dims = a.dims();
        for (int t = from; t < to; t++) {
            int u = from + (t - from + shift) % (to - from);
            double ab = 0;
            double aa = 0;
            double bb = 0;
            for (int k = 0; k < dims; k++) {
                float x = a.vectors()[t * dims + k];
                float y = b.vectors()[u * dims + k];
                ab += x * y;
                aa += x * x;
                bb += y * y;
            }
            sum += ab / Math.sqrt(aa * bb);
        }
        return sum / (to - from);
    }

    @Test
    void testHierarchical_when2048Tokens_thenOnePass() throws Exception {
        EncoderConfig hcfg = EncoderConfig.builder().longText(EncoderConfig.LongText.HIERARCHICAL).maxTokens(2048).build();
        for (String model : new String[] {TestModels.MINILM, TestModels.BGE}) {
            try (OnnxTextEncoder hier = (OnnxTextEncoder) TextEncoder.open(TestModels.model(model), hcfg)) {
                assertEquals(2050, hier.positions());
                String text = TextEncoderTests.longText(2100, hier.tokenizer());
                long before = hier.passes();
                long t0 = System.nanoTime();
                EncodedText e = hier.encode(text);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(1, hier.passes() - before, "passes");
                assertEquals(2048, e.tokens());
                assertTrue(e.truncated());
                for (float v : e.vectors()) {
                    assertTrue(Float.isFinite(v));
                }
                assertEquals(1.0, TextEncoderTests.dot(e.pooled(), e.pooled()), 1e-4);
                // tokens past 512 are not copies of earlier positions: rows 600 and 600 - 512 differ
                float[] r600 = Arrays.copyOfRange(e.vectors(), 600 * e.dims(), 601 * e.dims());
                float[] r88 = Arrays.copyOfRange(e.vectors(), 88 * e.dims(), 89 * e.dims());
                assertFalse(Arrays.equals(r600, r88));
                // past 512 the decomposed positions should still give vectors close to the windowed ones
                EncodedText w;
                try (TextEncoder win = TextEncoder.open(TestModels.model(model), EncoderConfig.builder().maxTokens(2048).build())) {
                    w = win.encode(text);
                }
                // The decomposed positions carry no fine-tuning: report how close the one-pass vectors stay to the
                // windowed ones (same token), against a baseline of other tokens (shifted by 37 positions).
                for (int[] r : new int[][] {{0, 512}, {512, 1024}, {1024, 2048}}) {
                    System.out.printf("  [%s] tokens [%d, %d): cosine hierarchical vs windows, same token %.3f, other token"
                        + " %.3f; same token closer in %.1f%%%n", model, r[0], r[1], meanCosine(e, w, r[0], r[1], 0),
                        meanCosine(e, w, r[0], r[1], 37), 100 * sameCloser(e, w, r[0], r[1], 37));
                }
                double wins = sameCloser(e, w, 512, 2048, 37);
                System.out.printf("[%s] hierarchical 2,048 tokens in one pass: %d ms%n", model, ms);
                assertTrue(wins >= 0.9, "past 512 the same token is closer in only " + wins);
            }
        }
    }
}
