//! The hoisted kernel against the reference: the whole conformance kit, in one line.
mandel_testkit::conformance!(hoisted => kernel_hoisted::Hoisted);
