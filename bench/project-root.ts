/** The project's root folder, for the bench and the tests: the one place that knows where it is. */
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
