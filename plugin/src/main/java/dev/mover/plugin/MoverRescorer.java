package dev.mover.plugin;

import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.Rescorer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Re-ranks the window by the mover similarity. Hits are visited in doc-id order so doc values are read forward
 * only; hits past the window are treated like hits without the field (first-pass score times
 * {@code query_weight}), exactly as Elasticsearch's query rescorer treats them.
 */
final class MoverRescorer implements Rescorer {
    static final MoverRescorer INSTANCE = new MoverRescorer();

    private static final Comparator<ScoreDoc> BY_SCORE = (a, b) -> {
        int c = Float.compare(b.score, a.score);
        return c != 0 ? c : Integer.compare(a.doc, b.doc);
    };

    static final class Context extends RescoreContext {
        final String field;
        final MoverRescorerBuilder.MoverMetric metric;
        final float queryWeight;
        final float rescoreQueryWeight;
        final MoverRescorerBuilder.ScoreMode scoreMode;
        final ModelService.QueryVectors query;
        final ModelService models;

        Context(int windowSize, String field, MoverRescorerBuilder.MoverMetric metric, float queryWeight, float rescoreQueryWeight,
                MoverRescorerBuilder.ScoreMode scoreMode, ModelService.QueryVectors query, ModelService models) {
            super(windowSize, INSTANCE);
            this.field = field;
            this.metric = metric;
            this.queryWeight = queryWeight;
            this.rescoreQueryWeight = rescoreQueryWeight;
            this.scoreMode = scoreMode;
            this.query = query;
            this.models = models;
        }

        float combine(float firstPass, SimilarityScorer.Result r) {
            if (r == null) {
                return firstPass * queryWeight;
            }
            return scoreMode.combine(firstPass * queryWeight, (float) r.score() * rescoreQueryWeight);
        }
    }

    @Override
    public TopDocs rescore(TopDocs topDocs, IndexSearcher searcher, RescoreContext rescoreContext) throws IOException {
        Context ctx = (Context) rescoreContext;
        ScoreDoc[] hits = topDocs.scoreDocs;
        int window = Math.min(hits.length, ctx.getWindowSize());
        if (window == 0) {
            return topDocs;
        }
        ScoreDoc[] byDoc = Arrays.copyOf(hits, window);
        Arrays.sort(byDoc, Comparator.comparingInt(d -> d.doc));
        SimilarityScorer scorer = new SimilarityScorer(ctx.metric, ctx.query);
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        int leafIdx = -1;
        int endDoc = 0;
        LeafReaderContext leaf = null;
        BinaryDocValues values = null;
        java.util.Set<Integer> rescored = new java.util.HashSet<>();
        for (ScoreDoc hit : byDoc) {
            ctx.checkCancellation();
            while (hit.doc >= endDoc) {
                leaf = leaves.get(++leafIdx);
                endDoc = leaf.docBase + leaf.reader().maxDoc();
                values = leaf.reader().getBinaryDocValues(ctx.field);
            }
            SimilarityScorer.Result r = null;
            if (values != null && values.advanceExact(hit.doc - leaf.docBase)) {
                BytesRef value = MoverTokensFieldMapper.unwrapDocValue(values.binaryValue(), ctx.field);
                r = scorer.score(value, ctx.field);
            }
            hit.score = ctx.combine(hit.score, r);
            rescored.add(hit.doc);
        }
        for (int i = window; i < hits.length; i++) {
            hits[i].score *= ctx.queryWeight;
        }
        Arrays.sort(hits, BY_SCORE);
        ctx.setRescoredDocs(rescored);
        return topDocs;
    }

    @Override
    public Explanation explain(int topLevelDocId, IndexSearcher searcher, RescoreContext rescoreContext, Explanation sourceExplanation)
        throws IOException {
        Context ctx = (Context) rescoreContext;
        if (sourceExplanation == null) {
            return Explanation.noMatch("no match found");
        }
        float first = sourceExplanation.getValue().floatValue();
        Explanation prim = Explanation.match(first * ctx.queryWeight, "product of:", sourceExplanation,
            Explanation.match(ctx.queryWeight, "primaryWeight"));
        if (ctx.isRescored(topLevelDocId) == false) {
            return prim;
        }
        List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
        LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(topLevelDocId, leaves));
        BinaryDocValues values = leaf.reader().getBinaryDocValues(ctx.field);
        if (values == null || values.advanceExact(topLevelDocId - leaf.docBase) == false) {
            return Explanation.match(ctx.combine(first, null), "document has no [" + ctx.field + "] value", prim);
        }
        SimilarityScorer scorer = new SimilarityScorer(ctx.metric, ctx.query, 3);
        SimilarityScorer.Result r = scorer.score(MoverTokensFieldMapper.unwrapDocValue(values.binaryValue(), ctx.field), ctx.field);
        List<Explanation> details = new ArrayList<>();
        details.add(Explanation.match((float) r.distance(), ctx.metric + " distance"));
        for (String a : r.describeAlignments(ctx.query)) {
            details.add(Explanation.match(0f, a));
        }
        Explanation sec = Explanation.match((float) r.score() * ctx.rescoreQueryWeight,
            "mover " + ctx.metric + " similarity " + r.score() + " times rescore_query_weight " + ctx.rescoreQueryWeight, details);
        return Explanation.match(ctx.combine(first, r), "score mode [" + ctx.scoreMode + "] combined:", prim, sec);
    }
}
