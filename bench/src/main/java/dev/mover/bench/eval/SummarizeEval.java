package dev.mover.bench.eval;

import dev.mover.encoder.EncodedText;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.summarize.SentenceEmbedder;
import dev.mover.encoder.summarize.Summarizer;
import dev.mover.encoder.summarize.Summarizer.Budget;
import dev.mover.encoder.summarize.Summarizer.Mode;
import dev.mover.encoder.summarize.Summarizer.Summary;
import dev.mover.encoder.text.Span;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mover eval summarize}: ROUGE-1/2/L F1, the CAIL2020 score and extract-stage recall of the salient labels
 * for {@code lead}, {@code extract} and {@code compressive}, all x 100.
 *
 * <p>Rules, fixed in advance: every mode gets the same budget per item, the reference summary's length in
 * characters (the usual length-matched comparison; capped at {@link Summarizer#MAX_BUDGET_CHARS}); ROUGE is
 * character-level for Chinese sets and word-level for English ones (language detected from the documents); the query
 * of query-based sets is always passed; the summarizer runs with its default constants (λ = 0.7, query weight 0.7)
 * and reads whole documents (max characters read 2,000,000, max units 50,000). Extract recall = salient
 * non-whitespace characters covered by the selected units / all salient non-whitespace characters, averaged over the
 * items that have labels. Each non-lead figure's note carries the paired bootstrap 95% interval of its mean minus
 * lead's. No generator can be downloaded here, so no {@code generate-<name>} rows are produced.
 */
final class SummarizeEval {

    private static final Mode[] MODES = {Mode.LEAD, Mode.EXTRACT, Mode.COMPRESSIVE};
    private static final String[] METRICS = {"rouge1", "rouge2", "rougeL", "cail_score", "extract_recall"};

    private final EvalCli.Options opt;
    private final Figures figures;
    private final Models models;
    /** One memoising embedder per language, shared by the data sets of a run (segments and meetings share text). */
    private final Map<Lang, CachingEmbedder> embedders = new java.util.EnumMap<>(Lang.class);

    SummarizeEval(EvalCli.Options opt, Figures figures, Models models) {
        this.opt = opt;
        this.figures = figures;
        this.models = models;
    }

    int run() throws IOException {
        List<SummData.DataSet> sets = SummData.read(opt.data(), opt.limit());
        if (sets.isEmpty()) {
            System.err.println("[eval summarize] no summarization layout recognised in [" + opt.data() + "]");
            return 1;
        }
        for (SummData.DataSet set : sets) {
            if (!opt.only().isEmpty() && !opt.only().contains(set.name())) {
                continue;
            }
            evaluate(set);
        }
        return 0;
    }

    /** Memoising embedder over the encoder's pooled vectors; bounded so that memory stays flat. */
    static final class CachingEmbedder implements SentenceEmbedder {
        private static final int MAX_ENTRIES = 400_000;
        private final TextEncoder encoder;
        private final Map<String, float[]> cache = new HashMap<>();
        long tokens;
        long encodeNanos;

        CachingEmbedder(TextEncoder encoder) {
            this.encoder = encoder;
        }

        @Override
        public float[][] embed(List<String> texts) {
            java.util.LinkedHashSet<String> missSet = new java.util.LinkedHashSet<>();
            for (String t : texts) {
                if (!cache.containsKey(t)) {
                    missSet.add(t);
                }
            }
            List<String> miss = new ArrayList<>(missSet);
            if (!miss.isEmpty()) {
                if (cache.size() + miss.size() > MAX_ENTRIES) {
                    cache.clear();
                }
                long t0 = System.nanoTime();
                List<EncodedText> out = encoder.encodeBatch(miss);
                encodeNanos += System.nanoTime() - t0;
                for (int i = 0; i < miss.size(); i++) {
                    tokens += out.get(i).tokens();
                    cache.put(miss.get(i), out.get(i).pooled());
                }
            }
            float[][] res = new float[texts.size()][];
            for (int i = 0; i < texts.size(); i++) {
                res[i] = cache.get(texts.get(i));
            }
            return res;
        }
    }

    private void evaluate(SummData.DataSet set) {
        TextEncoder enc = models.get(set.lang());
        Rouge.Level level = set.lang() == Lang.ZH ? Rouge.Level.CHAR : Rouge.Level.WORD;
        CachingEmbedder embedder = embedders.computeIfAbsent(set.lang(), l -> new CachingEmbedder(enc));
        long tokens0 = embedder.tokens;
        long encodeNanos0 = embedder.encodeNanos;
        Summarizer.Settings settings = Summarizer.Settings.DEFAULT.withMaxCharsRead(2_000_000).withMaxUnits(50_000);
        settings = new Summarizer.Settings(settings.maxCharsRead(), settings.maxUnits(), settings.lambda(), settings.queryWeight(),
            settings.minUnitChars(), settings.duplicateCosine(), 256, 0);
        Summarizer summarizer = new Summarizer(embedder, settings);
        int n = set.items().size();
        Map<Mode, Map<String, double[]>> values = new LinkedHashMap<>();
        Map<Mode, long[]> lengths = new HashMap<>();
        for (Mode m : MODES) {
            Map<String, double[]> perMetric = new LinkedHashMap<>();
            for (String metric : METRICS) {
                double[] v = new double[n];
                java.util.Arrays.fill(v, Double.NaN);
                perMetric.put(metric, v);
            }
            values.put(m, perMetric);
            lengths.put(m, new long[1]);
        }
        long budgetTotal = 0;
        Progress progress = new Progress("summarize " + set.name() + " (" + enc.model().name() + ")", n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            SummData.Item it = set.items().get(i);
            int budget = Math.max(1, Math.min(Summarizer.MAX_BUDGET_CHARS, it.ref().length()));
            budgetTotal += budget;
            for (Mode m : MODES) {
                Summary s = summarizer.summarize(it.doc(), it.query(), Budget.chars(budget), m);
                Rouge.Scores r = Rouge.score(s.text(), it.ref(), level);
                Map<String, double[]> v = values.get(m);
                v.get("rouge1")[i] = 100 * r.rouge1();
                v.get("rouge2")[i] = 100 * r.rouge2();
                v.get("rougeL")[i] = 100 * r.rougeL();
                v.get("cail_score")[i] = 100 * r.cail();
                if (it.salient() != null && !it.salient().isEmpty()) {
                    v.get("extract_recall")[i] = 100 * coverage(it.doc(), it.salient(), s);
                }
                lengths.get(m)[0] += s.units().stream().mapToInt(u -> u.span().length()).sum();
            }
            progress.update(i + 1);
        }
        progress.done();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "[eval summarize] %s: %d items, %.1fs, %d tokens encoded in %.1fs%n",
            set.name(), n, secs, embedder.tokens - tokens0, (embedder.encodeNanos - encodeNanos0) / 1e9);
        Map<String, double[]> lead = values.get(Mode.LEAD);
        for (Mode m : MODES) {
            for (String metric : METRICS) {
                double[] v = values.get(m).get(metric);
                int[] idx = finite(v);
                if (idx.length == 0) {
                    continue;
                }
                double mean = mean(v, idx);
                List<String> notes = new ArrayList<>();
                if (metric.equals("cail_score")) {
                    notes.add(String.format(Locale.ROOT, "mean length %.0f chars, budget %.0f", (double) lengths.get(m)[0] / n,
                        (double) budgetTotal / n));
                    if (m == Mode.LEAD) {
                        notes.add("model " + enc.model().name() + ", " + (level == Rouge.Level.CHAR ? "char" : "word") + "-level ROUGE");
                    }
                }
                if (m != Mode.LEAD && opt.bootstrap() > 0) {
                    double[] base = lead.get(metric);
                    double[] ci = RankMetrics.pairedBootstrap(idx.length, r -> {
                        double s = 0;
                        for (int k : r) {
                            s += v[idx[k]] - base[idx[k]];
                        }
                        return s / r.length;
                    }, opt.bootstrap(), 1);
                    notes.add(String.format(Locale.ROOT, "minus lead %+.2f, 95%% CI [%.2f, %.2f]", mean - mean(base, idx), ci[0], ci[1]));
                }
                figures.add("summarize", set.name(), m.label(), metric, mean, idx.length, notes.isEmpty() ? null : String.join("; ", notes));
            }
        }
    }

    /** Share of the salient non-whitespace characters covered by the summary's units. */
    static double coverage(String doc, List<Span> salient, Summary s) {
        boolean[] sal = new boolean[doc.length()];
        for (Span sp : salient) {
            for (int k = sp.start(); k < sp.end(); k++) {
                sal[k] = !Character.isWhitespace(doc.charAt(k));
            }
        }
        boolean[] sel = new boolean[doc.length()];
        for (Summarizer.Unit u : s.units()) {
            for (int k = u.span().start(); k < u.span().end(); k++) {
                sel[k] = true;
            }
        }
        long total = 0;
        long hit = 0;
        for (int k = 0; k < sal.length; k++) {
            if (sal[k]) {
                total++;
                if (sel[k]) {
                    hit++;
                }
            }
        }
        return total == 0 ? Double.NaN : (double) hit / total;
    }

    private static int[] finite(double[] v) {
        return java.util.stream.IntStream.range(0, v.length).filter(i -> !Double.isNaN(v[i])).toArray();
    }

    private static double mean(double[] v, int[] idx) {
        double s = 0;
        for (int i : idx) {
            s += v[i];
        }
        return s / idx.length;
    }
}
