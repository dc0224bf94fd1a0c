package dev.mover.bench.encoder;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.mover.bench.eval.Figures;
import dev.mover.encoder.EncodedText;
import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.OrtRuntime;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.codec.TokenVectorCodec.Encoding;
import dev.mover.encoder.tokenize.BertTokenizer;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mover bench encoder}: encoder throughput against a bare ONNX Runtime session on the same batches, the
 * codec's bytes per token, and the error int8 / int4 storage introduces into WRD over sentence pairs.
 *
 * <p>Throughput: the STS sentences are tokenized once and sorted by length, then cut into batches of
 * {@code --batch}; both sides run exactly these batches, interleaved round by round (order alternating); the
 * medians of the rounds and of the per-round ratios are reported. The encoder's time includes tokenizing,
 * batching, the ONNX pass, copying every content row out and pooling;
 * the bare side gets pre-tokenized padded id arrays, runs the session (same intra-op threads and optimisation level)
 * and copies the output out ({@code getFloatBuffer}). Tokens are content tokens (no [CLS]/[SEP]) on both sides.
 *
 * <p>WRD error: for the first {@code --pairs} pairs of the dev file, WRD (EMD, cosine cost, norm masses, from the
 * scoring module) of the float vectors vs the vectors decoded from int8 / int4; |difference| mean, p99 and max, and
 * the Spearman correlation of {@code 1 - WRD} with the gold score for each storage.
 */
public final class EncoderBench {
    private EncoderBench() {}

    private static final String USAGE = String.join("\n",
        "usage: mover bench encoder [options]",
        "  --model NAME     all-minilm-l6-v2 | bge-small-zh-v15 | all (default all)",
        "  --models DIR     models directory (default encoder/target/models, or -Dmover.models.dir)",
        "  --data DIR       ../shared/data layout (default ../shared/data)",
        "  --threads N      ONNX Runtime intra-op threads (default 2)",
        "  --batch N        sentences per batch (default 32)",
        "  --sentences N    sentences for the throughput run (default 1024)",
        "  --rounds N       timed rounds per side, interleaved; medians are reported (default 5)",
        "  --pairs N        sentence pairs for the WRD error table (default 1000)",
        "  --long           also time one hierarchical 4,096-token pass (time and peak resident memory)",
        "  --json FILE      write the figures (mover-figures/1)");

    public static int run(String[] args) throws Exception {
        String modelArg = "all";
        Path models = Path.of(System.getProperty("mover.models.dir", "encoder/target/models"));
        Path data = Path.of("../shared/data");
        int threads = 2;
        int batch = 32;
        int sentences = 1024;
        int rounds = 5;
        int pairs = 1000;
        boolean long4096 = false;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--model": modelArg = args[++i]; break;
                case "--models": models = Path.of(args[++i]); break;
                case "--data": data = Path.of(args[++i]); break;
                case "--threads": threads = Integer.parseInt(args[++i]); break;
                case "--batch": batch = Integer.parseInt(args[++i]); break;
                case "--sentences": sentences = Integer.parseInt(args[++i]); break;
                case "--rounds": rounds = Integer.parseInt(args[++i]); break;
                case "--pairs": pairs = Integer.parseInt(args[++i]); break;
                case "--long": long4096 = true; break;
                case "--json": json = Path.of(args[++i]); break;
                case "--help":
                case "-h":
                    System.out.println(USAGE);
                    return 0;
                default:
                    System.err.println("[bench] unknown option [" + a + "]\n" + USAGE);
                    return 2;
            }
        }
        List<String> names = modelArg.equals("all") ? List.of("all-minilm-l6-v2", "bge-small-zh-v15") : List.of(modelArg);
        Figures fig = new Figures("mover bench encoder " + String.join(" ", args));
        System.out.printf(Locale.ROOT, "ONNX Runtime %s, %d intra-op threads, batch %d, %d cores visible%n",
            OrtRuntime.version(), threads, batch, Runtime.getRuntime().availableProcessors());
        for (String name : names) {
            Path dir = models.resolve(name);
            StsFile sts = name.startsWith("bge") ? StsFile.zh(data) : StsFile.en(data);
            EncoderConfig cfg = EncoderConfig.builder().intraOpThreads(threads).batchSize(batch)
                .maxBatchPositions(Math.max(8192, batch * 512)).build();
            try (TextEncoder enc = TextEncoder.open(dir, cfg)) {
                System.out.printf(Locale.ROOT, "%n== %s (%s, %d pairs read from %s)%n", name, enc.model().dims() + "-d",
                    sts.gold.length, sts.file.getFileName());
                throughput(enc, sts, sentences, batch, threads, rounds, fig);
                codecAndWrd(enc, sts, pairs, fig);
            }
            if (long4096) {
                longPass(dir, threads, data, fig);
            }
        }
        System.out.println("\n" + fig.table("encoder-bench", "tokens_per_s"));
        if (json != null) {
            fig.writeJson(json);
            System.out.println("\nfigures written to " + json.toAbsolutePath());
        }
        return 0;
    }

    // ------------------------------------------------------------------ data

    /** Sentence pairs with gold scores. */
    static final class StsFile {
        Path file;
        String[] a;
        String[] b;
        double[] gold;

        static StsFile en(Path data) throws IOException {
            return read(data.resolve("sts-en/stsb-dev.tsv"), 6, 7, 5);
        }

        static StsFile zh(Path data) throws IOException {
            return read(data.resolve("sts-zh/stsb-zh-dev.tsv"), 1, 2, 3);
        }

        static StsFile read(Path f, int ca, int cb, int cg) throws IOException {
            List<String> lines = Files.readAllLines(f);
            StsFile s = new StsFile();
            s.file = f;
            int n = lines.size() - 1;
            s.a = new String[n];
            s.b = new String[n];
            s.gold = new double[n];
            for (int i = 0; i < n; i++) {
                String[] c = lines.get(i + 1).split("\t", -1);
                s.a[i] = c[ca];
                s.b[i] = c[cb];
                s.gold[i] = Double.parseDouble(c[cg]);
            }
            return s;
        }

        List<String> distinctSentences(int max) {
            LinkedHashSet<String> set = new LinkedHashSet<>();
            for (int i = 0; i < a.length && set.size() < max; i++) {
                set.add(a[i]);
                if (set.size() < max) {
                    set.add(b[i]);
                }
            }
            return new ArrayList<>(set);
        }
    }

    // ------------------------------------------------------------------ throughput

    private static void throughput(TextEncoder enc, StsFile sts, int sentences, int batch, int threads, int rounds,
                                   Figures fig) throws Exception {
        BertTokenizer tok = BertTokenizer.load(enc.model().tokenizerPath());
        List<String> texts = sts.distinctSentences(sentences);
        texts.sort(Comparator.comparingInt((String s) -> tok.tokenize(s).size()));
        List<List<String>> batches = new ArrayList<>();
        List<long[][]> ids = new ArrayList<>();
        long tokens = 0;
        for (int i = 0; i < texts.size(); i += batch) {
            List<String> chunk = texts.subList(i, Math.min(texts.size(), i + batch));
            batches.add(chunk);
            int len = 0;
            List<int[]> rows = new ArrayList<>();
            for (String s : chunk) {
                int[] t = tok.tokenize(s).ids();
                tokens += t.length;
                rows.add(t);
                len = Math.max(len, t.length + 2);
            }
            long[][] m = new long[chunk.size()][len];
            for (int r = 0; r < chunk.size(); r++) {
                int[] t = rows.get(r);
                m[r][0] = tok.clsId();
                for (int k = 0; k < t.length; k++) {
                    m[r][k + 1] = t[k];
                }
                m[r][t.length + 1] = tok.sepId();
            }
            ids.add(m);
        }
        OrtEnvironment env = OrtRuntime.environment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(threads);
        opts.setInterOpNumThreads(1);
        opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        long checksum = 0;
        double[] encTimes = new double[rounds];
        double[] ortTimes = new double[rounds];
        double[] ratios = new double[rounds];
        try (OrtSession bare = env.createSession(enc.model().onnxPath().toString(), opts)) {
            // warm-up: one round each
            checksum += runEncoder(enc, batches);
            checksum += runBare(env, bare, ids, enc.model().dims());
            for (int r = 0; r < rounds; r++) {
                // alternate the order so that neither side always runs first on a busy machine
                boolean encFirst = r % 2 == 0;
                for (int k = 0; k < 2; k++) {
                    long t0 = System.nanoTime();
                    if ((k == 0) == encFirst) {
                        checksum += runEncoder(enc, batches);
                        encTimes[r] = (System.nanoTime() - t0) / 1e9;
                    } else {
                        checksum += runBare(env, bare, ids, enc.model().dims());
                        ortTimes[r] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                ratios[r] = ortTimes[r] / encTimes[r];
                System.out.printf(Locale.ROOT, "  round %d: encoder %.2f s, bare ORT %.2f s, ratio %.3f%n", r + 1,
                    encTimes[r], ortTimes[r], ratios[r]);
            }
        }
        long tokT0 = System.nanoTime();
        long tokCount = 0;
        for (String s : texts) {
            tokCount += tok.tokenize(s).size();
        }
        double tokSeconds = (System.nanoTime() - tokT0) / 1e9;
        double encTps = tokens / median(encTimes);
        double ortTps = tokens / median(ortTimes);
        double ratio = median(ratios);
        System.out.printf(Locale.ROOT, "  throughput over %d sentences (%d tokens, %d batches), medians of %d rounds: encoder %.0f"
            + " tokens/s, bare ORT %.0f tokens/s, ratio %.3f (tokenizing alone: %.0f ms per round)%n", texts.size(), tokens,
            batches.size(), rounds, encTps, ortTps, ratio, tokSeconds * 1000 + (tokCount == checksum ? 0 : 0));
        String name = enc.model().name();
        String note = threads + " threads, batch " + batch + ", " + texts.size() + " sentences, median of " + rounds
            + " interleaved rounds";
        fig.add("encoder-bench", name, "mover", "tokens_per_s", encTps, (int) tokens, note);
        fig.add("encoder-bench", name, "ort", "tokens_per_s", ortTps, (int) tokens, note);
        fig.add("encoder-bench", name, "mover", "throughput_ratio_vs_ort", ratio, (int) tokens, note);
    }

    private static long runEncoder(TextEncoder enc, List<List<String>> batches) {
        long n = 0;
        for (List<String> b : batches) {
            for (EncodedText t : enc.encodeBatch(b)) {
                n += t.tokens();
            }
        }
        return n;
    }

    private static long runBare(OrtEnvironment env, OrtSession s, List<long[][]> batches, int dims) throws Exception {
        long n = 0;
        for (long[][] m : batches) {
            int b = m.length;
            int l = m[0].length;
            long[] flat = new long[b * l];
            long[] mask = new long[b * l];
            for (int r = 0; r < b; r++) {
                System.arraycopy(m[r], 0, flat, r * l, l);
                for (int k = 0; k < l; k++) {
                    mask[r * l + k] = m[r][k] != 0 ? 1 : 0;
                }
            }
            long[] shape = {b, l};
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(flat), shape));
                in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
                in.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * l]), shape));
                try (OrtSession.Result r = s.run(in)) {
                    FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    float[] copy = new float[out.remaining()];
                    out.get(copy);
                    n += copy.length / dims;
                }
            } finally {
                in.values().forEach(OnnxTensor::close);
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ codec and WRD

    private static void codecAndWrd(TextEncoder enc, StsFile sts, int pairs, Figures fig) {
        int n = Math.min(pairs, sts.gold.length);
        String name = enc.model().name();
        List<String> texts = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            texts.add(sts.a[i]);
            texts.add(sts.b[i]);
        }
        List<EncodedText> enc2 = enc.encodeBatch(texts);
        Encoding[] encodings = {Encoding.FLOAT32, Encoding.INT8, Encoding.INT4};
        long[] bytes = new long[encodings.length];
        long tokens = 0;
        List<List<float[]>> decoded = new ArrayList<>();
        for (int e = 0; e < encodings.length; e++) {
            decoded.add(new ArrayList<>());
        }
        List<byte[]> int8Values = new ArrayList<>();
        for (EncodedText t : enc2) {
            tokens += t.tokens();
            for (int e = 0; e < encodings.length; e++) {
                byte[] b = EncodedTextCodec.encode(t, encodings[e], enc.fingerprint());
                bytes[e] += b.length;
                if (encodings[e] == Encoding.INT8) {
                    int8Values.add(b);
                }
                decoded.get(e).add(TokenVectorCodec.decode(b, 0, b.length).vectors());
            }
        }
        long decodeNanos = Long.MAX_VALUE;
        for (int rep = 0; rep < 7; rep++) {
            long t0 = System.nanoTime();
            long sink = 0;
            for (byte[] b : int8Values) {
                sink += TokenVectorCodec.decode(b, 0, b.length).tokens();
            }
            decodeNanos = Math.min(decodeNanos, System.nanoTime() - t0 + (sink == -1 ? 1 : 0));
        }
        System.out.printf(Locale.ROOT, "  codec over %d texts, %d tokens (%d-d):%n", enc2.size(), tokens, enc.model().dims());
        for (int e = 0; e < encodings.length; e++) {
            double bpt = (double) bytes[e] / tokens;
            System.out.printf(Locale.ROOT, "    %-8s %8.1f bytes/token%n", encodings[e], bpt);
            fig.add("encoder-bench", name, encodings[e].toString(), "bytes_per_token", bpt, (int) tokens, null);
        }
        System.out.printf(Locale.ROOT, "    int8 decode (validation and checksum included): %.1f ns/token, best of 7%n", (double) decodeNanos / tokens);

        OtScorer scorer = OtScorer.builder(Metric.WRD).build();
        int dims = enc.model().dims();
        double[][] sim = new double[encodings.length][n];
        double[][] err = new double[encodings.length][n];
        double[] pooled = new double[n];
        int used = 0;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            EncodedText a = enc2.get(2 * i);
            EncodedText b = enc2.get(2 * i + 1);
            if (a.tokens() == 0 || b.tokens() == 0) {
                continue;
            }
            double[] d = new double[encodings.length];
            for (int e = 0; e < encodings.length; e++) {
                float[] va = decoded.get(e).get(2 * i);
                float[] vb = decoded.get(e).get(2 * i + 1);
                OtScorer.Prepared q = scorer.prepareQuery(TokenMatrix.of(va, a.tokens(), dims), null);
                d[e] = scorer.score(q, TokenMatrix.of(vb, b.tokens(), dims), null, 0).distance();
                sim[e][used] = 1 - d[e];
                err[e][used] = Math.abs(d[e] - d[0]);
            }
            double c = 0;
            for (int k = 0; k < dims; k++) {
                c += a.pooled()[k] * b.pooled()[k];
            }
            pooled[used] = c;
            idx[used] = i;
            used++;
        }
        double[] gold = new double[used];
        for (int k = 0; k < used; k++) {
            gold[k] = sts.gold[idx[k]];
        }
        double spPooled = spearman(Arrays.copyOf(pooled, used), gold);
        double spFloat = spearman(Arrays.copyOf(sim[0], used), gold);
        System.out.printf(Locale.ROOT, "  WRD error over %d pairs of %s (EMD, cosine cost, norm masses); Spearman x100:"
            + " pooled %.2f, WRD float32 %.2f%n", used, sts.file.getFileName(), 100 * spPooled, 100 * spFloat);
        System.out.printf(Locale.ROOT, "    %-8s %12s %12s %12s %10s %10s%n", "storage", "|dWRD| mean", "p99", "max",
            "Spearman", "change");
        fig.add("encoder-bench", name, "float32", "wrd_spearman", 100 * spFloat, used, sts.file.getFileName().toString());
        fig.add("encoder-bench", name, "pooled", "spearman", 100 * spPooled, used, sts.file.getFileName().toString());
        for (int e = 1; e < encodings.length; e++) {
            double[] x = Arrays.copyOf(err[e], used);
            Arrays.sort(x);
            double mean = Arrays.stream(x).average().orElse(Double.NaN);
            double p99 = x[Math.min(used - 1, (int) Math.ceil(0.99 * used) - 1)];
            double max = x[used - 1];
            double sp = spearman(Arrays.copyOf(sim[e], used), gold);
            System.out.printf(Locale.ROOT, "    %-8s %12.2e %12.2e %12.2e %10.2f %+10.3f%n", encodings[e], mean, p99, max,
                100 * sp, 100 * (sp - spFloat));
            String s = encodings[e].toString();
            fig.add("encoder-bench", name, s, "wrd_abs_err_mean", mean, used, null);
            fig.add("encoder-bench", name, s, "wrd_abs_err_p99", p99, used, null);
            fig.add("encoder-bench", name, s, "wrd_abs_err_max", max, used, null);
            fig.add("encoder-bench", name, s, "wrd_spearman", 100 * sp, used, null);
            fig.add("encoder-bench", name, s, "wrd_spearman_change", 100 * (sp - spFloat), used, "vs float32");
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    static double spearman(double[] x, double[] y) {
        double[] rx = ranks(x);
        double[] ry = ranks(y);
        double mx = Arrays.stream(rx).average().orElse(0);
        double my = Arrays.stream(ry).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < rx.length; i++) {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    static double[] ranks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        int i = 0;
        while (i < v.length) {
            int j = i;
            while (j + 1 < v.length && v[order[j + 1]] == v[order[i]]) {
                j++;
            }
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                r[order[k]] = avg;
            }
            i = j + 1;
        }
        return r;
    }

    // ------------------------------------------------------------------ hierarchical 4,096-token pass

    private static void longPass(Path dir, int threads, Path data, Figures fig) throws Exception {
        EncoderConfig cfg = EncoderConfig.builder().intraOpThreads(threads)
            .longText(EncoderConfig.LongText.HIERARCHICAL).maxTokens(4096).build();
        long rssBefore = procStatusKb("VmRSS");
        try (TextEncoder enc = TextEncoder.open(dir, cfg)) {
            BertTokenizer tok = BertTokenizer.load(enc.model().tokenizerPath());
            StsFile sts = enc.model().name().startsWith("bge") ? StsFile.zh(data) : StsFile.en(data);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < sts.a.length && tok.tokenize(sb.toString()).size() < 4200; i += 10) {
                for (int k = i; k < Math.min(i + 10, sts.a.length); k++) {
                    sb.append(sts.a[k]).append(' ');
                }
            }
            String text = sb.toString();
            long rssOpen = procStatusKb("VmRSS");
            enc.encode(text.substring(0, 200)); // warm-up
            long t0 = System.nanoTime();
            EncodedText t = enc.encode(text);
            double ms = (System.nanoTime() - t0) / 1e6;
            long rssAfter = procStatusKb("VmRSS");
            long hwm = procStatusKb("VmHWM");
            System.out.printf(Locale.ROOT, "  hierarchical one pass over %d tokens: %.0f ms; resident memory %d MB before"
                + " open, %d MB after open, %d MB after the pass, peak %d MB%n", t.tokens(), ms, rssBefore / 1024,
                rssOpen / 1024, rssAfter / 1024, hwm / 1024);
            String name = enc.model().name();
            fig.add("encoder-bench", name, "hierarchical", "pass_4096_ms", ms, t.tokens(), threads + " threads");
            fig.add("encoder-bench", name, "hierarchical", "peak_rss_mb", hwm / 1024.0, t.tokens(),
                "process peak (VmHWM), includes the JVM and earlier sessions");
        }
    }

    private static long procStatusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
