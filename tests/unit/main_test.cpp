#define BOOST_TEST_MODULE leasehold_unit
#include <boost/test/unit_test.hpp>
