//! The naive kernel against the reference: the whole conformance kit, in one line.
mandel_testkit::conformance!(naive => kernel_naive::Naive);
