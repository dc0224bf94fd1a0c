package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.encoder.generate.OnnxGraphWriter.Attr;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static dev.mover.encoder.generate.OnnxGraphWriter.FLOAT;
import static dev.mover.encoder.generate.OnnxGraphWriter.INT64;

/**
 * Prints the cost of a decoding step of {@link OnnxSeq2SeqGenerator} on a synthetic model shaped like t5-small's
 * decoder (6 layers, 8 heads, head_dim 64, d_model 512; vocabulary 8,000 to keep the files small; self- and
 * cross-attention over the past, no feed-forward blocks), with and without the past-key-value cache. Not a unit test:
 * a figure printer, run by hand:
 * <pre>
 * cd encoder && mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) dev.mover.encoder.generate.Seq2SeqStepBench
 * </pre>
 */
public final class Seq2SeqStepBench {
    static final int LAYERS = 6;
    static final int HEADS = 8;
    static final int HEAD_DIM = 64;
    static final int D = HEADS * HEAD_DIM;
    static final int V = 8000;

    private Seq2SeqStepBench() {}

    private static float[] random(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    private static String heads(OnnxGraphWriter g, String x) {
        String r = g.op("Reshape", x, g.vectorInt64(0, 0, HEADS, HEAD_DIM));
        return g.op("Transpose", List.of(r), Attr.ints("perm", 0, 2, 1, 3));
    }

    /** softmax(q k^T) v, [B,H,1,Dh]. */
    private static String attend(OnnxGraphWriter g, String q, String k, String v) {
        String kt = g.op("Transpose", List.of(k), Attr.ints("perm", 0, 1, 3, 2));
        String s = g.op("Softmax", List.of(g.op("MatMul", q, kt)), Attr.i("axis", -1));
        return g.op("MatMul", s, v);
    }

    static void write(Path dir) throws Exception {
        Files.createDirectories(dir);
        Random rnd = new Random(7);
        float[] emb = random(rnd, V * D, 0.05f);
        float[] out = random(rnd, D * V, 0.05f);

        OnnxGraphWriter enc = new OnnxGraphWriter("enc");
        enc.input("input_ids", INT64, "batch", "src");
        enc.input("attention_mask", INT64, "batch", "src");
        enc.node("Gather", "last_hidden_state", List.of(enc.floats("E", emb, V, D), "input_ids"), Attr.i("axis", 0));
        enc.output("last_hidden_state", FLOAT, "batch", "src", (long) D);
        Files.write(dir.resolve("encoder_model.onnx"), enc.model(13));

        for (boolean withPast : new boolean[] {false, true}) {
            OnnxGraphWriter g = new OnnxGraphWriter(withPast ? "dec_past" : "dec");
            g.input("input_ids", INT64, "batch", withPast ? (Object) 1L : "tgt");
            g.input("encoder_attention_mask", INT64, "batch", "src");
            if (!withPast) {
                g.input("encoder_hidden_states", FLOAT, "batch", "src", (long) D);
            }
            String x = g.op("Gather", List.of(g.floats("E", emb, V, D), "input_ids"), Attr.i("axis", 0));
            String q = heads(g, x);
            String encHeads = withPast ? null : heads(g, "encoder_hidden_states");
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < LAYERS; i++) {
                String dk;
                String ek;
                if (withPast) {
                    for (String kv : new String[] {"key", "value"}) {
                        g.input("past_key_values." + i + ".decoder." + kv, FLOAT, "batch", (long) HEADS, "past", (long) HEAD_DIM);
                        g.input("past_key_values." + i + ".encoder." + kv, FLOAT, "batch", (long) HEADS, "src", (long) HEAD_DIM);
                        g.node("Concat", "present." + i + ".decoder." + kv, List.of("past_key_values." + i + ".decoder." + kv, q),
                            Attr.i("axis", 2));
                    }
                    dk = "present." + i + ".decoder.key";
                    ek = "past_key_values." + i + ".encoder.key";
                } else {
                    for (String kv : new String[] {"key", "value"}) {
                        g.node("Identity", "present." + i + ".decoder." + kv, List.of(q));
                        g.node("Identity", "present." + i + ".encoder." + kv, List.of(encHeads));
                    }
                    dk = q;
                    ek = encHeads;
                }
                parts.add(g.op("ReduceMean", List.of(attend(g, q, dk, dk)), Attr.i("keepdims", 0)));
                parts.add(g.op("ReduceMean", List.of(attend(g, q, ek, ek)), Attr.i("keepdims", 0)));
            }
            String logits = g.op("MatMul", x, g.floats("W", out, D, V));
            String sum = parts.get(0);
            for (int i = 1; i < parts.size(); i++) {
                sum = g.op("Add", sum, parts.get(i));
            }
            g.node("Add", "logits", List.of(logits, g.op("Mul", sum, g.scalarFloat(0f))));
            g.output("logits", FLOAT, "batch", withPast ? (Object) 1L : "tgt", (long) V);
            for (int i = 0; i < LAYERS; i++) {
                for (String kv : new String[] {"key", "value"}) {
                    g.output("present." + i + ".decoder." + kv, FLOAT, "batch", (long) HEADS, "len", (long) HEAD_DIM);
                    if (!withPast) {
                        g.output("present." + i + ".encoder." + kv, FLOAT, "batch", (long) HEADS, "src", (long) HEAD_DIM);
                    }
                }
            }
            Files.write(dir.resolve(withPast ? "decoder_with_past_model.onnx" : "decoder_model.onnx"), g.model(13));
        }
        LinkedHashMap<String, Double> pieces = new LinkedHashMap<>();
        pieces.put(TokenizerFixtures.SP + "x", -1.0);
        TokenizerFixtures.write(dir, "tokenizer.json", TokenizerFixtures.unigram(pieces, false));
        ObjectNode d = TokenizerFixtures.JSON.createObjectNode().put("pad_token_id", 0).put("eos_token_id", 1)
            .put("decoder_start_token_id", 0).put("num_layers", LAYERS).put("num_heads", HEADS).put("max_length", 512)
            .put("max_source_tokens", 512);
        TokenizerFixtures.write(dir, "generator.json", d);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("target", "generate-bench", "t5-small-shaped");
        write(dir);
        int src = 512;
        int newTokens = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int[] ids = new int[src];
        Random r = new Random(1);
        for (int i = 0; i < src - 1; i++) {
            ids[i] = 3 + r.nextInt(V - 3);
        }
        ids[src - 1] = 1;
        for (boolean cache : new boolean[] {true, false}) {
            if (!cache) {
                ObjectNode d = (ObjectNode) TokenizerFixtures.JSON.readTree(dir.resolve("generator.json").toFile());
                d.put("use_cache", false);
                TokenizerFixtures.write(dir, "generator.json", d);
            }
            for (int beams : new int[] {1, 3}) {
                DecodingOptions opt = DecodingOptions.DEFAULT.withNumBeams(beams).withMinNewTokens(Math.min(1000, newTokens));
                try (OnnxSeq2SeqGenerator g = OnnxSeq2SeqGenerator.load(dir, opt)) {
                    g.decode(ids, opt, 8, Long.MAX_VALUE / 4); // warm-up
                    long t0 = System.nanoTime();
                    BeamSearch.Outcome o = g.decode(ids, opt, newTokens, Long.MAX_VALUE / 4);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    System.out.printf(Locale.ROOT, "cache=%-5s beams=%d source=%d tokens: %d steps in %.0f ms = %.2f ms/step%n",
                        cache, beams, src, o.steps(), ms, ms / o.steps());
                }
            }
        }
    }
}
