package dev.mover.bench.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mover.encoder.EncodedText;
import dev.mover.encoder.EncodedTextCodec;
import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.ModelDescriptor;
import dev.mover.encoder.TextEncoder;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import dev.mover.scoring.codec.TokenVectorCodec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Probe for issue #9 ("which vectors"): Spearman x 100 of token-level similarity when the token vectors come from an
 * intermediate transformer layer (model.json {@code hidden_layer}) or the mean of several layers, on STS files with
 * gold scores (meant for the train files only: nothing here is tuned on dev data).
 *
 * <p>For each configuration (one layer, or the element-wise mean of the float vectors of a layer range) and each
 * pair: {@code pooled} = cosine of the model's own pooled vectors (the same for every layer), and over the token
 * vectors stored with the int8 codec (encode then decode, as the index stores them): {@code maxsim} = mean of the two
 * directions' mean max cosine, {@code wrd} = 1 - WRD (exact EMD, norm masses, cosine cost). Writes
 * {@code <out>/<file>-L<k>.tsv} (or {@code -L<a>-<b>} for a mean) with header {@code gold pooled maxsim wrd} and prints
 * Spearman x 100 of every system and of the fixed 0.5/0.5 blends with pooled.
 *
 * <p>{@code --center N} (diagnostic for the anisotropy of intermediate layers): before scoring, subtract from every
 * token vector the mean token vector of the configuration, fitted on the first {@code N} distinct sentences of the
 * same file (no gold score is used).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp 'bench/target/classes:bench/target/lib/*' dev.mover.bench.eval.LayerProbe \
 *   [--model encoder/target/models/all-minilm-l6-v2] [--layers 1,2,3,4,5,6] [--means 4-6]
 *   [--files ../shared/data/sts-en/stsb-train.tsv,../shared/data/sts-en/sick-train.tsv] [--out target/layer-scores]
 *   [--limit 0] [--threads 2] [--center 0]
 * </pre>
 */
public final class LayerProbe {
    private static final int CHUNK = 256;

    private LayerProbe() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** One probed configuration: the layers whose float vectors are averaged (one layer = that layer's vectors). */
    private record Config(String name, int[] layers) {}

    public static int run(String[] args) throws Exception {
        Path model = Paths.get("encoder/target/models/all-minilm-l6-v2");
        String layersArg = "1,2,3,4,5,6";
        String meansArg = "4-6";
        String filesArg = "../shared/data/sts-en/stsb-train.tsv,../shared/data/sts-en/sick-train.tsv";
        Path out = Paths.get("target/layer-scores");
        int limit = 0;
        int threads = 2;
        int center = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                System.err.println("[layer-probe] option [" + a + "] needs a value");
                return 2;
            }
            String v = args[++i];
            switch (a) {
                case "--model" -> model = Paths.get(v);
                case "--layers" -> layersArg = v;
                case "--means" -> meansArg = v;
                case "--files" -> filesArg = v;
                case "--out" -> out = Paths.get(v);
                case "--limit" -> limit = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--center" -> center = Integer.parseInt(v);
                default -> {
                    System.err.println("[layer-probe] unknown option [" + a + "]");
                    return 2;
                }
            }
        }
        List<Config> configs = new ArrayList<>();
        java.util.TreeSet<Integer> needed = new java.util.TreeSet<>();
        for (String s : layersArg.split(",")) {
            if (!s.isBlank()) {
                int k = Integer.parseInt(s.trim());
                configs.add(new Config("L" + k, new int[] {k}));
                needed.add(k);
            }
        }
        for (String s : meansArg.split(",")) {
            if (!s.isBlank()) {
                String[] r = s.trim().split("-");
                int lo = Integer.parseInt(r[0]);
                int hi = Integer.parseInt(r[1]);
                int[] ls = new int[hi - lo + 1];
                for (int k = lo; k <= hi; k++) {
                    ls[k - lo] = k;
                    needed.add(k);
                }
                configs.add(new Config("L" + lo + "-" + hi, ls));
            }
        }
        Files.createDirectories(out);
        Path work = Files.createTempDirectory("layer-probe");
        EncoderConfig cfg = EncoderConfig.builder().intraOpThreads(threads).build();
        Map<Integer, TextEncoder> encoders = new LinkedHashMap<>();
        try {
            for (int k : needed) {
                encoders.put(k, TextEncoder.open(layerDir(model, k, work), cfg));
            }
            Map<String, Map<String, double[]>> table = new LinkedHashMap<>();
            for (String fileArg : filesArg.split(",")) {
                StsEval.StsFile f = StsEval.read(Paths.get(fileArg.trim()), limit);
                if (f == null) {
                    System.err.println("[layer-probe] [" + fileArg + "] has no sentence1/sentence2/score header");
                    return 1;
                }
                table.put(f.name(), probe(f, configs, encoders, out, center));
            }
            print(table, configs);
        } finally {
            for (TextEncoder e : encoders.values()) {
                e.close();
            }
        }
        return 0;
    }

    /** A directory linking the model's files, whose model.json asks for {@code hidden_layer = layer}. */
    private static Path layerDir(Path model, int layer, Path work) throws IOException {
        ModelDescriptor d = ModelDescriptor.load(model);
        Path dir = work.resolve(d.name() + "-L" + layer);
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        ObjectNode json = (ObjectNode) om.readTree(model.resolve(ModelDescriptor.DESCRIPTOR_FILE).toFile());
        json.put("hidden_layer", layer);
        om.writeValue(dir.resolve(ModelDescriptor.DESCRIPTOR_FILE).toFile(), json);
        Files.createSymbolicLink(dir.resolve(d.onnxFile()), d.onnxPath().toAbsolutePath());
        Files.createSymbolicLink(dir.resolve(d.tokenizerFile()), d.tokenizerPath().toAbsolutePath());
        return dir;
    }

    /** Scores every pair of {@code f} for every configuration; returns config -> {pooled, maxsim, wrd, hyb-maxsim, hyb-wrd}. */
    private static Map<String, double[]> probe(StsEval.StsFile f, List<Config> configs, Map<Integer, TextEncoder> encoders,
                                               Path outDir, int center) throws IOException {
        int n = f.gold().length;
        int c = configs.size();
        double[][] means = center > 0 ? fitMeans(f, configs, encoders, center) : null;
        double[] pooled = new double[n];
        double[][] maxsim = new double[c][n];
        double[][] wrd = new double[c][n];
        OtScorer ot = OtScorer.builder(Metric.WRD).build();
        long t0 = System.nanoTime();
        for (int from = 0; from < n; from += CHUNK) {
            int to = Math.min(n, from + CHUNK);
            List<String> uniq = new ArrayList<>();
            Map<String, Integer> pos = new HashMap<>();
            for (int i = from; i < to; i++) {
                pos.computeIfAbsent(f.s1().get(i), k -> { uniq.add(k); return uniq.size() - 1; });
                pos.computeIfAbsent(f.s2().get(i), k -> { uniq.add(k); return uniq.size() - 1; });
            }
            Map<Integer, List<EncodedText>> byLayer = new HashMap<>();
            for (Map.Entry<Integer, TextEncoder> e : encoders.entrySet()) {
                byLayer.put(e.getKey(), e.getValue().encodeBatch(uniq));
            }
            List<EncodedText> any = byLayer.values().iterator().next();
            for (int ci = 0; ci < c; ci++) {
                Config cf = configs.get(ci);
                TokenMatrix[] stored = new TokenMatrix[uniq.size()];
                for (int k = 0; k < uniq.size(); k++) {
                    EncodedText e = mean(byLayer, cf.layers(), k);
                    if (means != null) {
                        e = centered(e, means[ci]);
                    }
                    stored[k] = stored(e);
                }
                for (int i = from; i < to; i++) {
                    int ka = pos.get(f.s1().get(i));
                    int kb = pos.get(f.s2().get(i));
                    if (ci == 0) {
                        pooled[i] = StsEval.cosine(any.get(ka).pooled(), any.get(kb).pooled());
                    }
                    TokenMatrix x = stored[ka];
                    TokenMatrix y = stored[kb];
                    if (x.rows() == 0 || y.rows() == 0) {
                        maxsim[ci][i] = Double.NaN;
                        wrd[ci][i] = Double.NaN;
                        continue;
                    }
                    OtScorer.Prepared px = ot.prepareQuery(x, null);
                    OtScorer.Prepared py = ot.prepareQuery(y, null);
                    maxsim[ci][i] = (ot.maxSim(px, y) + ot.maxSim(py, x)) / 2;
                    wrd[ci][i] = 1 - ot.score(px, y, null, 0).distance();
                }
            }
            System.err.printf(Locale.ROOT, "\r[layer-probe] %s %d/%d pairs, %.0fs", f.name(), to, n,
                (System.nanoTime() - t0) / 1e9);
        }
        System.err.println();
        Map<String, double[]> res = new LinkedHashMap<>();
        for (int ci = 0; ci < c; ci++) {
            Config cf = configs.get(ci);
            Path p = outDir.resolve(f.name() + "-" + cf.name() + ".tsv");
            try (BufferedWriter w = Files.newBufferedWriter(p, StandardCharsets.UTF_8)) {
                w.write("gold\tpooled\tmaxsim\twrd\n");
                for (int i = 0; i < n; i++) {
                    w.write(f.gold()[i] + "\t" + pooled[i] + "\t" + maxsim[ci][i] + "\t" + wrd[ci][i] + "\n");
                }
            }
            double[] hm = new double[n];
            double[] hw = new double[n];
            for (int i = 0; i < n; i++) {
                hm[i] = 0.5 * pooled[i] + 0.5 * maxsim[ci][i];
                hw[i] = 0.5 * pooled[i] + 0.5 * wrd[ci][i];
            }
            res.put(cf.name(), new double[] {rho(f.gold(), pooled), rho(f.gold(), maxsim[ci]), rho(f.gold(), wrd[ci]),
                rho(f.gold(), hm), rho(f.gold(), hw)});
        }
        return res;
    }

    /** Per configuration, the mean token vector over the first {@code count} distinct sentences of the file. */
    private static double[][] fitMeans(StsEval.StsFile f, List<Config> configs, Map<Integer, TextEncoder> encoders,
                                       int count) {
        java.util.LinkedHashSet<String> set = new java.util.LinkedHashSet<>();
        for (int i = 0; i < f.gold().length && set.size() < count; i++) {
            set.add(f.s1().get(i));
            set.add(f.s2().get(i));
        }
        List<String> sample = new ArrayList<>(set);
        Map<Integer, List<EncodedText>> byLayer = new HashMap<>();
        for (Map.Entry<Integer, TextEncoder> e : encoders.entrySet()) {
            byLayer.put(e.getKey(), e.getValue().encodeBatch(sample));
        }
        double[][] means = new double[configs.size()][];
        for (int ci = 0; ci < configs.size(); ci++) {
            double[] m = null;
            long rows = 0;
            for (int k = 0; k < sample.size(); k++) {
                EncodedText e = mean(byLayer, configs.get(ci).layers(), k);
                int d = e.dims();
                if (m == null) {
                    m = new double[d];
                }
                float[] v = e.vectors();
                for (int r = 0; r < e.tokens(); r++) {
                    for (int j = 0; j < d; j++) {
                        m[j] += v[r * d + j];
                    }
                }
                rows += e.tokens();
            }
            for (int j = 0; j < m.length; j++) {
                m[j] /= Math.max(rows, 1);
            }
            means[ci] = m;
        }
        return means;
    }

    private static EncodedText centered(EncodedText e, double[] mean) {
        int d = e.dims();
        float[] v = e.vectors().clone();
        for (int r = 0; r < e.tokens(); r++) {
            for (int j = 0; j < d; j++) {
                v[r * d + j] -= (float) mean[j];
            }
        }
        return new EncodedText(d, v, e.ids(), e.starts(), e.ends(), e.pooled(), e.truncated());
    }

    /** Spearman x 100; an undefined similarity ranks last. */
    private static double rho(double[] gold, double[] sim) {
        double[] s = sim.clone();
        for (int i = 0; i < s.length; i++) {
            if (Double.isNaN(s[i])) {
                s[i] = -1e9;
            }
        }
        return 100 * RankMetrics.spearman(gold, s);
    }

    /** The element-wise mean of the given layers' float token vectors of sentence {@code k} (one layer: as is). */
    private static EncodedText mean(Map<Integer, List<EncodedText>> byLayer, int[] layers, int k) {
        EncodedText first = byLayer.get(layers[0]).get(k);
        if (layers.length == 1) {
            return first;
        }
        float[] v = new float[first.vectors().length];
        for (int l : layers) {
            float[] x = byLayer.get(l).get(k).vectors();
            for (int j = 0; j < v.length; j++) {
                v[j] += x[j];
            }
        }
        for (int j = 0; j < v.length; j++) {
            v[j] /= layers.length;
        }
        return new EncodedText(first.dims(), v, first.ids(), first.starts(), first.ends(), first.pooled(), first.truncated());
    }

    /** Encodes then decodes with the int8 codec, as the index stores the vectors. */
    private static TokenMatrix stored(EncodedText e) {
        byte[] bytes = EncodedTextCodec.encode(e, TokenVectorCodec.Encoding.INT8, 0L);
        TokenVectorCodec.Decoded dec = TokenVectorCodec.decode(bytes, 0, bytes.length);
        return TokenMatrix.of(dec.vectors(), dec.tokens(), e.dims());
    }

    private static void print(Map<String, Map<String, double[]>> table, List<Config> configs) {
        String[] systems = {"pooled", "maxsim", "wrd", "0.5pooled+0.5maxsim", "0.5pooled+0.5wrd"};
        List<String> files = new ArrayList<>(table.keySet());
        StringBuilder h = new StringBuilder("| layer | system |");
        StringBuilder sep = new StringBuilder("|---|---|");
        for (String f : files) {
            h.append(' ').append(f).append(" |");
            sep.append("---:|");
        }
        h.append(" mean |");
        sep.append("---:|");
        System.out.println(h);
        System.out.println(sep);
        for (Config cf : configs) {
            for (int s = 0; s < systems.length; s++) {
                if (s == 0 && cf != configs.get(0)) {
                    continue; // pooled does not depend on the layer
                }
                StringBuilder row = new StringBuilder("| " + (s == 0 ? "-" : cf.name()) + " | " + systems[s] + " |");
                double sum = 0;
                for (String f : files) {
                    double v = table.get(f).get(cf.name())[s];
                    sum += v;
                    row.append(String.format(Locale.ROOT, " %.2f |", v));
                }
                row.append(String.format(Locale.ROOT, " %.2f |", sum / files.size()));
                System.out.println(row);
            }
        }
    }
}
