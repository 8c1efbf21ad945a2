/**
 * Entry point of a piscina pool thread for `klpsim stress --jobs`: thin; the job is src/stress/job.ts.
 */
import stressJob from '../src/stress/job';

export default stressJob;
