package dev.mover.scoring;

/**
 * One flow of a transport plan, for explanations.
 *
 * @param queryToken index of the query token in the query matrix as given (zero-mass tokens keep their index)
 * @param docToken index of the document token in the document matrix as given
 * @param flow mass moved from the query token to the document token (masses sum to 1 per side)
 * @param cost the cost {@code C[queryToken][docToken]} of moving one unit of mass
 */
public record Alignment(int queryToken, int docToken, double flow, double cost) {}
