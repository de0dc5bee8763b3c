/** Tags on a stage's tracked run: the pipeline run it belongs to, and its stage (the Runs view groups by them). */
export const PIPELINE_RUN_TAG = 'mlops.pipeline.run';
export const PIPELINE_STAGE_TAG = 'mlops.pipeline.stage';
