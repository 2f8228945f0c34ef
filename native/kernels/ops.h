// The op codes of the elementwise and reduction kernels, and the layouts of the optimizer updates'
// hyper-parameter arrays, as X-macro lists: kernels.h makes the C++ enums from them, and
// scripts/gen-addon-types.mjs the TypeScript codes (the position in a list is the code).
#pragma once

#define NABLA_UNARY_OPS(X) X(neg) X(exp) X(log) X(log1p) X(sqrt) X(abs) X(sign) X(relu) X(sigmoid) X(tanh) X(softplus) X(step)
#define NABLA_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(gt) X(ge) X(lt) X(le) X(eq) X(ne)
#define NABLA_REDUCE_OPS(X) X(sum) X(max) X(min)
#define NABLA_ARG_REDUCE_OPS(X) X(argmax) X(argmin)
// Hyper-parameter layouts of the Float64Array `hyper` arguments.
#define NABLA_ADAM_HYPER(X) X(lr) X(beta1) X(beta2) X(eps) X(weightDecay) X(step) X(decoupled) X(maximize)
#define NABLA_SGD_HYPER(X) X(lr) X(momentum) X(dampening) X(weightDecay) X(nesterov) X(maximize) X(first)
#define NABLA_RMSPROP_HYPER(X) X(lr) X(alpha) X(eps) X(weightDecay) X(momentum) X(maximize)
#define NABLA_ADAGRAD_HYPER(X) X(clr) X(eps) X(weightDecay) X(maximize)
#define NABLA_ADADELTA_HYPER(X) X(lr) X(rho) X(eps) X(weightDecay) X(maximize)
#define NABLA_NADAM_HYPER(X) X(beta1) X(beta2) X(eps) X(weightDecay) X(bc2) X(c1) X(c2)
#define NABLA_ADAMAX_HYPER(X) X(clr) X(beta1) X(beta2) X(eps) X(weightDecay) X(maximize)
