package dev.mover.encoder.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes small but real HuggingFace {@code tokenizer.json} files (BPE trained here on a tiny corpus, Unigram with
 * chosen scores) so tokenizers can be checked against the Rust library without downloading anything.
 */
final class TokenizerFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SP = "\u2581";

    /** Training text: English and Chinese, with repeated words so merges are meaningful. */
    static final List<String> CORPUS = List.of(
        "The court ruled that the contract was valid and the defendant must repay the loan.",
        "The defendant said the loan was repaid in full before the deadline.",
        "Spending on public transport rises by ten percent under the new budget.",
        "The council approved the budget on Monday after a long debate.",
        "原告与被告签订借款合同，被告到期未还款。",
        "法院判决被告归还借款本金十万元及利息。",
        "The quick brown fox jumps over the lazy dog; the dog sleeps.");

    private TokenizerFixtures() {}

    static Path write(Path dir, String name, ObjectNode root) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.write(p, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        return p;
    }

    static ObjectNode added(String content, int id) {
        return JSON.createObjectNode().put("id", id).put("content", content).put("single_word", false)
            .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
    }

    static ObjectNode metaspace() {
        return JSON.createObjectNode().put("type", "Metaspace").put("replacement", SP).put("prepend_scheme", "always").put("split", true);
    }

    /** T5-style post-processor: the sequence, then {@code eos}. */
    static ObjectNode templateEos(String eos, int eosId) {
        ObjectNode pp = JSON.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", eos).put("type_id", 0);
        ArrayNode pair = pp.putArray("pair");
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", eos).put("type_id", 0);
        ObjectNode st = pp.putObject("special_tokens").putObject(eos);
        st.put("id", eos);
        st.putArray("ids").add(eosId);
        st.putArray("tokens").add(eos);
        return pp;
    }

    /**
     * A Unigram tokenizer: {@code <pad> </s> <unk>}, then the given pieces with their scores, then every single
     * character of the corpus (score -10, so whole pieces win). Metaspace pre-tokenizer, NFKC, eos appended.
     */
    static ObjectNode unigram(LinkedHashMap<String, Double> pieces, boolean withCorpusChars) {
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode addedTokens = root.putArray("added_tokens");
        addedTokens.add(added("<pad>", 0)).add(added("</s>", 1)).add(added("<unk>", 2));
        root.putObject("normalizer").put("type", "NFKC");
        root.set("pre_tokenizer", metaspace());
        root.set("post_processor", templateEos("</s>", 1));
        root.set("decoder", metaspace());
        ObjectNode model = root.putObject("model").put("type", "Unigram").put("unk_id", 2).put("byte_fallback", false);
        ArrayNode vocab = model.putArray("vocab");
        vocab.addArray().add("<pad>").add(0.0);
        vocab.addArray().add("</s>").add(0.0);
        vocab.addArray().add("<unk>").add(0.0);
        Set<String> seen = new LinkedHashSet<>(List.of("<pad>", "</s>", "<unk>"));
        for (Map.Entry<String, Double> e : pieces.entrySet()) {
            if (seen.add(e.getKey())) {
                vocab.addArray().add(e.getKey()).add(e.getValue());
            }
        }
        if (withCorpusChars) {
            Set<String> chars = new LinkedHashSet<>();
            chars.add(SP);
            for (String s : CORPUS) {
                s.codePoints().filter(c -> c != ' ').forEach(c -> chars.add(new String(Character.toChars(c))));
            }
            for (String c : chars) {
                if (seen.add(c)) {
                    vocab.addArray().add(c).add(-10.0);
                }
            }
        }
        return root;
    }

    /** Unigram pieces from the corpus: whole words and their halves with length-based scores. */
    static LinkedHashMap<String, Double> corpusPieces() {
        Map<String, Integer> counts = new TreeMap<>();
        for (String s : CORPUS) {
            for (String w : s.replaceAll("[.,;。，]", " ").split("\\s+")) {
                if (!w.isEmpty()) {
                    counts.merge(SP + w.toLowerCase(Locale.ROOT), 1, Integer::sum);
                    counts.merge(SP + w, 1, Integer::sum);
                    if (w.length() > 3) {
                        counts.merge(w.substring(w.length() / 2), 1, Integer::sum);
                        counts.merge(SP + w.substring(0, w.length() / 2), 1, Integer::sum);
                    }
                }
            }
        }
        LinkedHashMap<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            // log-probability-like: frequent and long pieces score higher (less negative)
            out.put(e.getKey(), -6.0 + Math.log(e.getValue()) + 0.15 * e.getKey().length());
        }
        return out;
    }

    // ------------------------------------------------------------------ BPE

    private static final Pattern GPT2 = Pattern.compile(
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    static char[] byteToChar() {
        char[] out = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = printable ? (char) b : (char) (256 + n++);
        }
        return out;
    }

    /** Trains {@code merges} BPE merges on words given as symbol lists; ties broken by the pair's text. */
    static List<String[]> train(List<List<String>> words, int merges) {
        List<String[]> out = new ArrayList<>();
        List<List<String>> ws = new ArrayList<>();
        for (List<String> w : words) {
            ws.add(new ArrayList<>(w));
        }
        for (int m = 0; m < merges; m++) {
            Map<String, Integer> counts = new TreeMap<>();
            for (List<String> w : ws) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    counts.merge(w.get(i) + " " + w.get(i + 1), 1, Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                if (e.getValue() > bestCount) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = best.split(" ", 2);
            out.add(pair);
            for (List<String> w : ws) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    if (w.get(i).equals(pair[0]) && w.get(i + 1).equals(pair[1])) {
                        w.set(i, pair[0] + pair[1]);
                        w.remove(i + 1);
                    }
                }
            }
        }
        return out;
    }

    /** GPT-2/RoBERTa-style byte-level BPE: {@code <s> <pad> </s> <unk>}, 256 byte symbols, trained merges. */
    static ObjectNode byteLevelBpe(int merges) {
        char[] b2c = byteToChar();
        List<List<String>> words = new ArrayList<>();
        for (String s : CORPUS) {
            Matcher m = GPT2.matcher(s);
            while (m.find()) {
                List<String> w = new ArrayList<>();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                    w.add(String.valueOf(b2c[b & 0xFF]));
                }
                words.add(w);
            }
        }
        List<String[]> trained = train(words, merges);
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens").add(added("<s>", 0)).add(added("<pad>", 1)).add(added("</s>", 2)).add(added("<unk>", 3));
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
            .put("use_regex", true);
        ObjectNode pp = root.putObject("post_processor").put("type", "RobertaProcessing").put("trim_offsets", true)
            .put("add_prefix_space", false);
        pp.putArray("sep").add("</s>").add(2);
        pp.putArray("cls").add("<s>").add(0);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        int id = 0;
        for (String t : List.of("<s>", "<pad>", "</s>", "<unk>")) {
            vocab.put(t, id++);
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(b2c[b]), id++);
        }
        ArrayNode ms = model.putArray("merges");
        Map<String, Integer> have = new HashMap<>();
        for (String[] p : trained) {
            String merged = p[0] + p[1];
            if (!have.containsKey(merged) && !vocab.has(merged)) {
                vocab.put(merged, id++);
                have.put(merged, 1);
            }
            ms.add(p[0] + " " + p[1]);
        }
        return root;
    }

    /**
     * Llama-style character BPE: normalizer Prepend(▁) + Replace(" " → ▁), no pre-tokenizer, byte fallback
     * {@code <0x00>..<0xFF>}, decoder Replace + ByteFallback + Fuse + Strip. Characters of the corpus are the base
     * symbols, except a few left out so byte fallback is exercised.
     */
    static ObjectNode metaspaceBpe(int merges, Set<String> leaveOut) {
        List<List<String>> words = new ArrayList<>();
        Set<String> chars = new LinkedHashSet<>();
        for (String s : CORPUS) {
            String t = SP + s.replace(" ", SP);
            List<String> w = new ArrayList<>();
            t.codePoints().forEach(c -> w.add(new String(Character.toChars(c))));
            chars.addAll(w);
            words.add(w);
        }
        chars.removeAll(leaveOut);
        for (List<String> w : words) {
            w.replaceAll(c -> leaveOut.contains(c) ? "\u0000" : c);
        }
        List<String[]> trained = train(words, merges);
        ObjectNode root = JSON.createObjectNode().put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens").add(added("<unk>", 0)).add(added("<s>", 1)).add(added("</s>", 2));
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", SP);
        ObjectNode rep = ns.addObject().put("type", "Replace");
        rep.putObject("pattern").put("String", " ");
        rep.put("content", SP);
        root.putNull("pre_tokenizer");
        ObjectNode pp = root.putObject("post_processor").put("type", "TemplateProcessing");
        pp.putArray("single").add(JSON.createObjectNode().set("SpecialToken", JSON.createObjectNode().put("id", "<s>").put("type_id", 0)))
            .add(JSON.createObjectNode().set("Sequence", JSON.createObjectNode().put("id", "A").put("type_id", 0)));
        pp.putArray("pair").add(JSON.createObjectNode().set("Sequence", JSON.createObjectNode().put("id", "A").put("type_id", 0)));
        ObjectNode st = pp.putObject("special_tokens").putObject("<s>");
        st.put("id", "<s>");
        st.putArray("ids").add(1);
        st.putArray("tokens").add("<s>");
        ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ObjectNode drep = ds.addObject().put("type", "Replace");
        drep.putObject("pattern").put("String", SP);
        drep.put("content", " ");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        int id = 0;
        for (String t : List.of("<unk>", "<s>", "</s>")) {
            vocab.put(t, id++);
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format(Locale.ROOT, "<0x%02X>", b), id++);
        }
        for (String c : chars) {
            vocab.put(c, id++);
        }
        ArrayNode ms = model.putArray("merges");
        for (String[] p : trained) {
            if (p[0].contains("\u0000") || p[1].contains("\u0000")) {
                continue;
            }
            String merged = p[0] + p[1];
            if (!vocab.has(merged)) {
                vocab.put(merged, id++);
            }
            ms.addArray().add(p[0]).add(p[1]);
        }
        return root;
    }
}
