/** The workspace: train.py's git history in a bare repository (best, experiments, rebase). */
export {
  openWorkspace, commitMessage, EXPERIMENT_TRAILER, REBASED_TRAILER,
  type Version, type Staged, type RebaseResult, type Workspace,
} from './workspace.js';
export { Git, checkGitVersion } from './git.js';
