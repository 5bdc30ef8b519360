export type { MakeRegressionOptions, RegressionData } from './makeRegression.js';
export { makeRegression } from './makeRegression.js';
export { permutation } from './permutation.js';
export { standardNormal } from './standardNormal.js';
