package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.encoder.generate.OnnxGraphWriter.Attr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

import static dev.mover.encoder.generate.OnnxGraphWriter.FLOAT;
import static dev.mover.encoder.generate.OnnxGraphWriter.INT64;

/**
 * A small encoder-decoder built as ONNX graphs from Java, in Optimum's three-file layout, whose output is known.
 *
 * <p>Vocabulary ({@link #VOCAB}, Unigram tokenizer with Metaspace, {@code </s>} appended to the source):
 * {@code <pad>=0 (decoder start) </s>=1 <unk>=2}, then words. Hidden size = vocabulary size {@code V}; the encoder
 * is a one-hot embedding of the source. At decoder position {@code j} (0 = the start token) with the tokens
 * {@code y_0..y_j} fed so far, the logits are
 * <pre>  z = copy · onehot(src[min(j, S-1)]) + W[y_j] - coverage · count(y_0..y_j)</pre>
 * so with {@code W = 0, coverage = 0} the model copies its source (then {@code </s>}), {@code W} adds a bigram
 * preference, and {@code coverage} penalises tokens already generated.
 *
 * <p>Past key values ({@value #LAYERS} layers, {@value #HEADS} heads, head_dim {@code V}): the decoder's
 * {@code present.{i}.decoder.key|value} append {@code onehot(y_j)} (layer 1's value times 2) to the past along the
 * length axis, and {@code present.{i}.encoder.key|value} hold the encoder states per head.
 * {@code decoder_with_past_model.onnx} takes no {@code encoder_hidden_states}: it reads the source from
 * {@code past_key_values.0.encoder.key} (head 0), its position {@code j} from the length of
 * {@code past_key_values.0.decoder.key}, and the coverage counts from the sums over the length axis of
 * {@code present.0.decoder.key} (head 0) and {@code present.1.decoder.value} (head 1, halved), averaged. The full
 * decoder computes the same with a {@code CumSum}, so cached and uncached decoding must agree exactly — and only
 * when the pasts are fed back and reordered with the beams.
 */
final class ToySeq2SeqModel {
    static final String SP = "\u2581";
    static final List<String> VOCAB = List.of("<pad>", "</s>", "<unk>",
        SP + "the", SP + "cat", SP + "sat", SP + "on", SP + "mat", SP + "dog",
        SP + "a", SP + "b", SP + "c", SP + "d", SP + "x", SP + "y", SP + "z");
    static final int V = VOCAB.size();
    static final int LAYERS = 2;
    static final int HEADS = 2;
    static final int OPSET = 13;

    private ToySeq2SeqModel() {}

    static int id(String word) {
        int i = VOCAB.indexOf(SP + word);
        if (i < 0) {
            throw new IllegalArgumentException(word);
        }
        return i;
    }

    /** A V x V bigram matrix, zero except the given {@code (from, to, value)} triples (words; "start" = pad). */
    static float[][] bigrams(Object... triples) {
        float[][] w = new float[V][V];
        for (int i = 0; i < triples.length; i += 3) {
            String from = (String) triples[i];
            String to = (String) triples[i + 1];
            int f = from.equals("start") ? 0 : id(from);
            int t = to.equals("eos") ? 1 : id(to);
            w[f][t] = ((Number) triples[i + 2]).floatValue();
        }
        return w;
    }

    /**
     * Writes the model directory.
     *
     * @param decoding the {@code decoding} object of generator.json, or null
     */
    static Path write(Path dir, float copy, float coverage, float[][] bigram, ObjectNode decoding) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("encoder_model.onnx"), encoder());
        Files.write(dir.resolve("decoder_model.onnx"), decoder(copy, coverage, bigram));
        Files.write(dir.resolve("decoder_with_past_model.onnx"), decoderWithPast(copy, coverage, bigram));
        LinkedHashMap<String, Double> pieces = new LinkedHashMap<>();
        for (int i = 3; i < V; i++) {
            pieces.put(VOCAB.get(i), -1.0);
        }
        TokenizerFixtures.write(dir, "tokenizer.json", TokenizerFixtures.unigram(pieces, false));
        ObjectNode g = TokenizerFixtures.JSON.createObjectNode().put("pad_token_id", 0).put("eos_token_id", 1)
            .put("decoder_start_token_id", 0).put("num_layers", LAYERS).put("num_heads", HEADS).put("max_length", 32)
            .put("max_source_tokens", 64).put("use_cache", true);
        if (decoding != null) {
            g.set("decoding", decoding);
        }
        TokenizerFixtures.write(dir, OnnxSeq2SeqGenerator.DESCRIPTOR_FILE, g);
        return dir;
    }

    private static float[] identity() {
        float[] e = new float[V * V];
        for (int i = 0; i < V; i++) {
            e[i * V + i] = 1;
        }
        return e;
    }

    private static float[] flat(float[][] m) {
        float[] out = new float[V * V];
        for (int i = 0; i < V; i++) {
            System.arraycopy(m[i], 0, out, i * V, V);
        }
        return out;
    }

    static byte[] encoder() {
        OnnxGraphWriter g = new OnnxGraphWriter("toy_encoder");
        g.input("input_ids", INT64, "batch", "src");
        g.input("attention_mask", INT64, "batch", "src");
        String emb = g.floats("embedding", identity(), V, V);
        String oh = g.op("Gather", List.of(emb, "input_ids"), Attr.i("axis", 0));
        String m = g.op("Cast", List.of("attention_mask"), Attr.i("to", FLOAT));
        String mu = g.op("Unsqueeze", m, g.vectorInt64(2));
        g.node("Mul", "last_hidden_state", List.of(oh, mu));
        g.output("last_hidden_state", FLOAT, "batch", "src", (long) V);
        return g.model(OPSET);
    }

    /** {@code copy·copied + W[y] - coverage·counts}, all [B, L, V]. */
    private static void logits(OnnxGraphWriter g, String copied, String bigram, String counts, float copy, float coverage) {
        String a = g.op("Mul", copied, g.scalarFloat(copy));
        String c = g.op("Mul", counts, g.scalarFloat(coverage));
        String s = g.op("Sub", g.op("Add", a, bigram), c);
        g.node("Identity", "logits", List.of(s));
    }

    private static String twoHeads(OnnxGraphWriter g, String x) {
        String u = g.op("Unsqueeze", x, g.vectorInt64(1));
        return g.op("Concat", List.of(u, u), Attr.i("axis", 1));
    }

    static byte[] decoder(float copy, float coverage, float[][] bigram) {
        OnnxGraphWriter g = new OnnxGraphWriter("toy_decoder");
        g.input("input_ids", INT64, "batch", "tgt");
        g.input("encoder_hidden_states", FLOAT, "batch", "src", (long) V);
        g.input("encoder_attention_mask", INT64, "batch", "src");
        String eye = g.floats("eye", identity(), V, V);
        String w = g.floats("bigram", flat(bigram), V, V);
        String m = g.op("Unsqueeze", g.op("Cast", List.of("encoder_attention_mask"), Attr.i("to", FLOAT)), g.vectorInt64(2));
        String hm = g.op("Mul", "encoder_hidden_states", m);
        String len = g.op("Gather", List.of(g.op("Shape", "input_ids"), g.scalarInt64(1)), Attr.i("axis", 0));
        String src = g.op("Gather", List.of(g.op("Shape", "encoder_hidden_states"), g.scalarInt64(1)), Attr.i("axis", 0));
        String pos = g.op("Range", g.scalarInt64(0), len, g.scalarInt64(1));
        String posc = g.op("Min", pos, g.op("Sub", src, g.scalarInt64(1)));
        String copied = g.op("Gather", List.of(hm, posc), Attr.i("axis", 1));
        String oh = g.op("Gather", List.of(eye, "input_ids"), Attr.i("axis", 0));
        String big = g.op("Gather", List.of(w, "input_ids"), Attr.i("axis", 0));
        String counts = g.op("CumSum", oh, g.scalarInt64(1));
        logits(g, copied, big, counts, copy, coverage);
        g.output("logits", FLOAT, "batch", "tgt", (long) V);
        String dec = twoHeads(g, oh);
        String dec2 = g.op("Mul", dec, g.scalarFloat(2f));
        String enc = twoHeads(g, "encoder_hidden_states");
        for (int i = 0; i < LAYERS; i++) {
            g.node("Identity", "present." + i + ".decoder.key", List.of(dec));
            g.node("Identity", "present." + i + ".decoder.value", List.of(i == 1 ? dec2 : dec));
            g.node("Identity", "present." + i + ".encoder.key", List.of(enc));
            g.node("Identity", "present." + i + ".encoder.value", List.of(enc));
            for (String kv : new String[] {"key", "value"}) {
                g.output("present." + i + ".decoder." + kv, FLOAT, "batch", (long) HEADS, "tgt", (long) V);
                g.output("present." + i + ".encoder." + kv, FLOAT, "batch", (long) HEADS, "src", (long) V);
            }
        }
        return g.model(OPSET);
    }

    static byte[] decoderWithPast(float copy, float coverage, float[][] bigram) {
        OnnxGraphWriter g = new OnnxGraphWriter("toy_decoder_with_past");
        g.input("input_ids", INT64, "batch", 1L);
        g.input("encoder_attention_mask", INT64, "batch", "src");
        for (int i = 0; i < LAYERS; i++) {
            for (String kv : new String[] {"key", "value"}) {
                g.input("past_key_values." + i + ".decoder." + kv, FLOAT, "batch", (long) HEADS, "past", (long) V);
                g.input("past_key_values." + i + ".encoder." + kv, FLOAT, "batch", (long) HEADS, "src", (long) V);
            }
        }
        String eye = g.floats("eye", identity(), V, V);
        String w = g.floats("bigram", flat(bigram), V, V);
        String encKey = "past_key_values.0.encoder.key";
        String hidden = g.op("Gather", List.of(encKey, g.scalarInt64(0)), Attr.i("axis", 1));
        String m = g.op("Unsqueeze", g.op("Cast", List.of("encoder_attention_mask"), Attr.i("to", FLOAT)), g.vectorInt64(2));
        String hm = g.op("Mul", hidden, m);
        String past = g.op("Gather", List.of(g.op("Shape", "past_key_values.0.decoder.key"), g.scalarInt64(2)), Attr.i("axis", 0));
        String src = g.op("Gather", List.of(g.op("Shape", encKey), g.scalarInt64(2)), Attr.i("axis", 0));
        String posc = g.op("Reshape", g.op("Min", past, g.op("Sub", src, g.scalarInt64(1))), g.vectorInt64(1));
        String copied = g.op("Gather", List.of(hm, posc), Attr.i("axis", 1));
        String oh = g.op("Gather", List.of(eye, "input_ids"), Attr.i("axis", 0));
        String big = g.op("Gather", List.of(w, "input_ids"), Attr.i("axis", 0));
        String fresh = twoHeads(g, oh);
        String fresh2 = g.op("Mul", fresh, g.scalarFloat(2f));
        List<String> presents = new ArrayList<>();
        for (int i = 0; i < LAYERS; i++) {
            for (String kv : new String[] {"key", "value"}) {
                String name = "present." + i + ".decoder." + kv;
                String add = i == 1 && kv.equals("value") ? fresh2 : fresh;
                g.node("Concat", name, List.of("past_key_values." + i + ".decoder." + kv, add), Attr.i("axis", 2));
                presents.add(name);
            }
        }
        String sum0 = g.op("ReduceSum", List.of("present.0.decoder.key", g.vectorInt64(2)), Attr.i("keepdims", 0));
        String cov0 = g.op("Gather", List.of(sum0, g.vectorInt64(0)), Attr.i("axis", 1));
        String sum1 = g.op("ReduceSum", List.of("present.1.decoder.value", g.vectorInt64(2)), Attr.i("keepdims", 0));
        String cov1 = g.op("Mul", g.op("Gather", List.of(sum1, g.vectorInt64(1)), Attr.i("axis", 1)), g.scalarFloat(0.5f));
        String counts = g.op("Mul", g.op("Add", cov0, cov1), g.scalarFloat(0.5f));
        logits(g, copied, big, counts, copy, coverage);
        g.output("logits", FLOAT, "batch", 1L, (long) V);
        for (String p : presents) {
            g.output(p, FLOAT, "batch", (long) HEADS, "past_plus_1", (long) V);
        }
        return g.model(OPSET);
    }
}
