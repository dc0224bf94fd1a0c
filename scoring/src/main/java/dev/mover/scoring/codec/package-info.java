/**
 * The versioned binary format of one document's token vectors, offsets and model fingerprint:
 * {@link dev.mover.scoring.codec.TokenVectorCodec}. It lives in {@code mover-scoring} so that readers (the Lucene
 * rescorer, the Elasticsearch plugin, tools) need no ONNX Runtime; {@code mover-encoder} writes it from encoder output
 * with {@code dev.mover.encoder.EncodedTextCodec}.
 */
package dev.mover.scoring.codec;
