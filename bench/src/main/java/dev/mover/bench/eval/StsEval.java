package dev.mover.bench.eval;

import dev.mover.encoder.EncodedText;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.Solver;
import dev.mover.scoring.TokenMatrix;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./mover eval sts}: Spearman x 100 between the gold score and each system's similarity, per file.
 *
 * <p>Files: every regular file of the directory whose first line is a tab-separated header with columns
 * {@code sentence1}, {@code sentence2} and a gold column ({@code score}, {@code relatedness_score} or
 * {@code label}, the first present). The dataset name is the file name without its extension; the language (and
 * so the model) is detected from the sentences.
 *
 * <p>Systems (all from one encoder pass per sentence): {@code pooled} = cosine of the model's pooled vectors;
 * over the token vectors stored with the product's default int8 codec (encode then decode), and with {@code -float}
 * over the float vectors: {@code wrd} = 1 − WRD (exact EMD, norm masses, cosine cost), {@code wmd} = −WMD (exact
 * EMD, uniform masses, Euclidean cost), {@code maxsim} = mean of the two directions' mean max cosine,
 * {@code wrd-sinkhorn} = 1 − the Sinkhorn transport cost (scoring module defaults: epsilon 0.05 x max cost,
 * tolerance 1e-9). A pair whose similarity is undefined (a sentence with no token) is ranked last for that system
 * and counted in the note. Each non-pooled figure's note carries the paired bootstrap 95% interval of its Spearman
 * minus pooled's (1,000 resamples, seed 1), in the same x 100 units.
 *
 * <p>{@code default} is the rescorer's default scoring carried over to a sentence pair: 0.5 x pooled cosine + 0.5 x
 * maxSim (the DSL's default metric with its default {@code pooled_weight} when a pooled field is given), on the int8
 * vectors; with {@code --variants} the same figure also appears as {@code hybrid-maxsim}.
 *
 * <p>With {@code --variants}, also the systems of {@link Variants} (hybrids with the pooled cosine and idf-weighted
 * WRD) on the same stored int8 vectors of the same encoder pass.
 */
final class StsEval {

    static final String[] TOKEN_SYSTEMS = {"wrd", "wmd", "maxsim", "wrd-sinkhorn"};
    private static final String[] GOLD_COLUMNS = {"score", "relatedness_score", "label"};
    private static final int CHUNK = 256;

    /** A recognised file. */
    record StsFile(String name, Path path, List<String> s1, List<String> s2, double[] gold, Lang lang) {}

    private final EvalCli.Options opt;
    private final Figures figures;
    private final Models models;

    StsEval(EvalCli.Options opt, Figures figures, Models models) {
        this.opt = opt;
        this.figures = figures;
        this.models = models;
    }

    /** Reads {@code file} if its header is an STS header, else returns null. */
    static StsFile read(Path file, int limit) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String header = r.readLine();
            if (header == null) {
                return null;
            }
            List<String> cols = Arrays.asList(header.replace("\uFEFF", "").split("\t", -1));
            int c1 = cols.indexOf("sentence1");
            int c2 = cols.indexOf("sentence2");
            int cg = -1;
            for (String g : GOLD_COLUMNS) {
                if (cg < 0) {
                    cg = cols.indexOf(g);
                }
            }
            if (c1 < 0 || c2 < 0 || cg < 0) {
                return null;
            }
            List<String> s1 = new ArrayList<>();
            List<String> s2 = new ArrayList<>();
            List<Double> gold = new ArrayList<>();
            String line;
            int lineNo = 1;
            while ((line = r.readLine()) != null && (limit <= 0 || s1.size() < limit)) {
                lineNo++;
                if (line.isEmpty()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                if (f.length < cols.size() - 1 || f.length <= Math.max(c1, Math.max(c2, cg))) {
                    throw new IOException("[sts] " + file + " line [" + lineNo + "] has [" + f.length + "] fields, header has [" + cols.size() + "]");
                }
                try {
                    gold.add(Double.parseDouble(f[cg].trim()));
                } catch (NumberFormatException e) {
                    throw new IOException("[sts] " + file + " line [" + lineNo + "] gold [" + f[cg] + "] is not a number", e);
                }
                s1.add(f[c1]);
                s2.add(f[c2]);
            }
            List<String> sample = new ArrayList<>(s1.subList(0, Math.min(200, s1.size())));
            sample.addAll(s2.subList(0, Math.min(200, s2.size())));
            return new StsFile(EvalCli.datasetName(file), file, s1, s2, gold.stream().mapToDouble(Double::doubleValue).toArray(),
                Lang.detect(sample));
        }
    }

    /** Recognised files of {@code dir}, sorted by name. */
    static List<Path> candidates(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".md"))
                .sorted().toList();
        }
    }

    int run() throws IOException {
        int found = 0;
        for (Path p : candidates(opt.data())) {
            StsFile f = read(p, opt.limit());
            if (f == null) {
                continue;
            }
            if (!opt.only().isEmpty() && !opt.only().contains(f.name())) {
                continue;
            }
            found++;
            evaluate(f);
        }
        if (found == 0) {
            System.err.println("[eval sts] no file with a sentence1/sentence2/score header in [" + opt.data() + "]");
            return 1;
        }
        return 0;
    }

    /** One sentence's stored forms. */
    private record Enc(float[] pooled, TokenMatrix tokensInt8, TokenMatrix tokensFloat) {}

    private void evaluate(StsFile f) {
        TextEncoder enc = models.get(f.lang());
        int n = f.gold().length;
        Map<String, double[]> sims = new LinkedHashMap<>();
        sims.put("pooled", new double[n]);
        for (String s : TOKEN_SYSTEMS) {
            sims.put(s, new double[n]);
        }
        for (String s : TOKEN_SYSTEMS) {
            sims.put(s + "-float", new double[n]);
        }
        sims.put("default", new double[n]);
        boolean variants = opt.variants();
        if (variants) {
            for (String s : Variants.SYSTEMS) {
                sims.put(s, new double[n]);
            }
        }
        // --variants: the int8 token matrices and token ids of both sides of each pair, kept for the idf pass
        TokenMatrix[] keptA = variants ? new TokenMatrix[n] : null;
        TokenMatrix[] keptB = variants ? new TokenMatrix[n] : null;
        int[][] idsA = variants ? new int[n][] : null;
        int[][] idsB = variants ? new int[n][] : null;
        boolean[][] punctA = variants ? new boolean[n][] : null;
        boolean[][] punctB = variants ? new boolean[n][] : null;
        Map<String, Integer> undefined = new HashMap<>();
        Scorers sc = new Scorers();
        Progress progress = new Progress("sts " + f.name() + " (" + enc.model().name() + ")", n);
        long t0 = System.nanoTime();
        long tokens = 0;
        for (int from = 0; from < n; from += CHUNK) {
            int to = Math.min(n, from + CHUNK);
            List<String> uniq = new ArrayList<>();
            Map<String, Integer> pos = new HashMap<>();
            for (int i = from; i < to; i++) {
                pos.computeIfAbsent(f.s1().get(i), k -> { uniq.add(k); return uniq.size() - 1; });
                pos.computeIfAbsent(f.s2().get(i), k -> { uniq.add(k); return uniq.size() - 1; });
            }
            List<EncodedText> out = enc.encodeBatch(uniq);
            Enc[] encs = new Enc[uniq.size()];
            int[][] ids = new int[uniq.size()][];
            boolean[][] punct = new boolean[uniq.size()][];
            for (int k = 0; k < uniq.size(); k++) {
                EncodedText e = out.get(k);
                tokens += e.tokens();
                encs[k] = stored(e, enc.fingerprint());
                ids[k] = e.ids();
                if (variants) {
                    punct[k] = Variants.punctuation(uniq.get(k), e.starts(), e.ends());
                }
            }
            for (int i = from; i < to; i++) {
                int ka = pos.get(f.s1().get(i));
                int kb = pos.get(f.s2().get(i));
                Enc a = encs[ka];
                Enc b = encs[kb];
                double pooledSim = cosine(a.pooled(), b.pooled());
                sims.get("pooled")[i] = pooledSim;
                if (variants) {
                    keptA[i] = a.tokensInt8();
                    keptB[i] = b.tokensInt8();
                    idsA[i] = ids[ka];
                    idsB[i] = ids[kb];
                    punctA[i] = punct[ka];
                    punctB[i] = punct[kb];
                }
                for (int v = 0; v < 2; v++) {
                    String suffix = v == 0 ? "" : "-float";
                    TokenMatrix x = v == 0 ? a.tokensInt8() : a.tokensFloat();
                    TokenMatrix y = v == 0 ? b.tokensInt8() : b.tokensFloat();
                    for (String sys : TOKEN_SYSTEMS) {
                        double s;
                        try {
                            s = sc.similarity(sys, x, y);
                        } catch (IllegalArgumentException ex) {
                            s = Double.NaN;
                        }
                        if (v == 0 && sys.equals("maxsim")) {
                            put(sims, undefined, "default", i, Variants.hybrid(pooledSim, s));
                        }
                        if (variants && v == 0 && (sys.equals("wrd") || sys.equals("maxsim"))) {
                            put(sims, undefined, "hybrid-" + sys, i, Variants.hybrid(pooledSim, s));
                        }
                        if (Double.isNaN(s)) {
                            undefined.merge(sys + suffix, 1, Integer::sum);
                            s = -1e9;
                        }
                        sims.get(sys + suffix)[i] = s;
                    }
                }
            }
            progress.update(to);
        }
        progress.done();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "[eval sts] %s: %d pairs, %d tokens, %.1fs (%.0f tokens/s incl. scoring)%n",
            f.name(), n, tokens, secs, tokens / Math.max(secs, 1e-9));
        if (variants) {
            idfPass(f, sims, undefined, keptA, keptB, idsA, idsB, punctA, punctB);
        }
        double[] gold = f.gold();
        if (opt.scores() != null) {
            writeScores(opt.scores().resolve(f.name() + ".tsv"), gold, sims);
        }
        double[] goldRanks = RankMetrics.averageRanks(gold);
        double[] pooled = sims.get("pooled");
        for (Map.Entry<String, double[]> e : sims.entrySet()) {
            double rho = 100 * RankMetrics.spearman(e.getValue(), gold);
            List<String> notes = new ArrayList<>();
            notes.add("model " + enc.model().name());
            if (undefined.containsKey(e.getKey())) {
                notes.add(undefined.get(e.getKey()) + " pairs undefined, ranked last");
            }
            if (!e.getKey().equals("pooled") && opt.bootstrap() > 0) {
                double[] sys = e.getValue();
                double[] ci = RankMetrics.pairedBootstrap(n, idx -> {
                    double[] g = RankMetrics.pick(gold, idx);
                    double[] gr = RankMetrics.averageRanks(g);
                    return 100 * (RankMetrics.pearson(RankMetrics.averageRanks(RankMetrics.pick(sys, idx)), gr)
                        - RankMetrics.pearson(RankMetrics.averageRanks(RankMetrics.pick(pooled, idx)), gr));
                }, opt.bootstrap(), 1);
                notes.add(String.format(Locale.ROOT, "minus pooled %.2f, 95%% CI [%.2f, %.2f]",
                    rho - 100 * RankMetrics.pearson(RankMetrics.averageRanks(pooled), goldRanks), ci[0], ci[1]));
            }
            figures.add("sts", f.name(), e.getKey(), "spearman", rho, n, String.join("; ", notes));
        }
    }

    /**
     * Second pass of {@code --variants}: idf from all 2n sentences of the file (both sides of every pair, token ids of
     * the stored tokens), then WRD with idf x norm masses on the kept int8 matrices, its hybrid with pooled, and WRD
     * without punctuation-only and stop-like tokens.
     */
    private static void idfPass(StsFile f, Map<String, double[]> sims, Map<String, Integer> undefined, TokenMatrix[] a,
                                TokenMatrix[] b, int[][] idsA, int[][] idsB, boolean[][] punctA, boolean[][] punctB) {
        int n = a.length;
        List<int[]> sentences = new ArrayList<>(2 * n);
        sentences.addAll(Arrays.asList(idsA));
        sentences.addAll(Arrays.asList(idsB));
        Map<Integer, Double> idf = Variants.idf(sentences);
        Map<Integer, Integer> df = Variants.df(sentences);
        Variants.IdfWrd wrdIdf = new Variants.IdfWrd();
        double[] mean = Variants.meanVector(a, b);
        Scorers sc = new Scorers();
        Variants.PartialWrd partialWrd = new Variants.PartialWrd();
        double[] pooled = sims.get("pooled");
        Progress progress = new Progress("sts " + f.name() + " wrd-idf", n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            double s;
            try {
                s = wrdIdf.similarity(a[i], Variants.weights(idsA[i], a[i], idf, 2 * n),
                    b[i], Variants.weights(idsB[i], b[i], idf, 2 * n));
            } catch (IllegalArgumentException ex) {
                s = Double.NaN;
            }
            put(sims, undefined, "hybrid-wrd-idf", i, Variants.hybrid(pooled[i], s));
            put(sims, undefined, "wrd-idf", i, s);
            try {
                s = wrdIdf.similarity(a[i], Variants.noPunctWeights(idsA[i], punctA[i], a[i], df, 2 * n),
                    b[i], Variants.noPunctWeights(idsB[i], punctB[i], b[i], df, 2 * n));
            } catch (IllegalArgumentException ex) {
                s = Double.NaN;
            }
            put(sims, undefined, "wrd-nopunct", i, s);
            TokenMatrix ca = Variants.centered(a[i], mean);
            TokenMatrix cb = Variants.centered(b[i], mean);
            double cw;
            double cm;
            try {
                cw = sc.similarity("wrd", ca, cb);
                cm = sc.similarity("maxsim", ca, cb);
            } catch (IllegalArgumentException ex) {
                cw = Double.NaN;
                cm = Double.NaN;
            }
            put(sims, undefined, "wrd-centered", i, cw);
            put(sims, undefined, "maxsim-centered", i, cm);
            put(sims, undefined, "hybrid-maxsim-centered", i, Variants.hybrid(pooled[i], cm));
            double pw;
            try {
                pw = partialWrd.similarity(a[i], b[i]);
            } catch (IllegalArgumentException ex) {
                pw = Double.NaN;
            }
            put(sims, undefined, "wrd-partial", i, pw);
            put(sims, undefined, "hybrid-wrd-partial", i, Variants.hybrid(pooled[i], pw));
            if ((i & 255) == 255) {
                progress.update(i + 1);
            }
        }
        progress.done();
        System.err.printf(Locale.ROOT, "[eval sts] %s: idf over %d sentences, %d distinct ids, wrd-idf %.1fs%n",
            f.name(), 2 * n, idf.size(), (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Writes one line per pair: the gold score then each system's similarity (undefined pairs as {@code NaN}), under a
     * header naming the columns.
     */
    static void writeScores(Path file, double[] gold, Map<String, double[]> sims) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            StringBuilder sb = new StringBuilder("gold");
            for (String s : sims.keySet()) {
                sb.append('\t').append(s);
            }
            sb.append('\n');
            for (int i = 0; i < gold.length; i++) {
                sb.append(gold[i]);
                for (double[] v : sims.values()) {
                    sb.append('\t').append(v[i] == -1e9 ? Double.NaN : v[i]);
                }
                sb.append('\n');
            }
            Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
            System.err.println("[eval sts] wrote per-pair similarities to " + file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("[eval sts] cannot write [" + file + "]", e);
        }
    }

    /** Stores {@code s} as pair {@code i} of {@code system}; NaN is counted as undefined and ranked last. */
    private static void put(Map<String, double[]> sims, Map<String, Integer> undefined, String system, int i, double s) {
        if (Double.isNaN(s)) {
            undefined.merge(system, 1, Integer::sum);
            s = -1e9;
        }
        sims.get(system)[i] = s;
    }

    /** Encodes then decodes with the int8 codec, as the index stores it; the float form is the encoder's output. */
    private static Enc stored(EncodedText e, long fingerprint) {
        int d = e.dims();
        TokenMatrix f = TokenMatrix.of(e.vectors(), e.tokens(), d);
        byte[] bytes = EncodedTextCodec.encode(e, TokenVectorCodec.Encoding.INT8, fingerprint);
        TokenVectorCodec.Decoded dec = TokenVectorCodec.decode(bytes, 0, bytes.length);
        TokenMatrix q = TokenMatrix.of(dec.vectors(), dec.tokens(), d);
        return new Enc(e.pooled(), q, f);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        if (na == 0 || nb == 0) {
            return Double.NaN;
        }
        return dot / Math.sqrt(na * nb);
    }

    /** One scorer per system (scorers are thread-confined and reuse their workspace). */
    static final class Scorers {
        final OtScorer wrd = OtScorer.builder(Metric.WRD).build();
        final OtScorer wmd = OtScorer.builder(Metric.WMD).build();
        final OtScorer sinkhorn = OtScorer.builder(Metric.WRD).solver(Solver.SINKHORN).build();

        /** Similarity of two token sequences (larger is more similar); NaN when undefined. */
        double similarity(String system, TokenMatrix x, TokenMatrix y) {
            if (x.rows() == 0 || y.rows() == 0) {
                return Double.NaN;
            }
            switch (system) {
                case "wrd":
                    return 1 - wrd.score(wrd.prepareQuery(x, null), y, null, 0).distance();
                case "wmd":
                    return -wmd.score(wmd.prepareQuery(x, null), y, null, 0).distance();
                case "wrd-sinkhorn":
                    return 1 - sinkhorn.score(sinkhorn.prepareQuery(x, null), y, null, 0).distance();
                case "maxsim":
                    return (wrd.maxSim(wrd.prepareQuery(x, null), y) + wrd.maxSim(wrd.prepareQuery(y, null), x)) / 2;
                default:
                    throw new IllegalArgumentException("[sts] unknown system [" + system + "]");
            }
        }
    }
}
