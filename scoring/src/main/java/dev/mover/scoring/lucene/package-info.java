/**
 * Optimal-transport rescoring with plain Lucene (no Elasticsearch).
 *
 * <p>Entry point: {@link dev.mover.scoring.lucene.MoverRescorer}, a {@link org.apache.lucene.search.Rescorer} that
 * reads one {@link dev.mover.scoring.codec.TokenVectorCodec} value per document from a binary doc-values field (bare,
 * or in the doc-value layout the Elasticsearch {@code mover_tokens} field writes) and re-ranks a first pass by WRD,
 * WMD or maxSim with exact pruning. Lucene is a {@code provided} dependency of this module: bring your own
 * {@code lucene-core} 9.x.
 */
package dev.mover.scoring.lucene;
